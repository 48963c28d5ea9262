// Portable micro-kernel (any CPU, any compiler): 4 x 16 tile in plain loops
// that compilers vectorise for the target they are given.
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/half.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm_kernels.h"

namespace sd {

namespace {

constexpr int kMR = 4;
constexpr int kNR = 16;


template <typename BT, float (*Widen)(BT)>
void kernel(int64_t kc, const float* const* a, const BT* bp, float* c, int64_t ldc, bool accumulate) {
  float acc[kMR][kNR];
  for (int r = 0; r < kMR; ++r)
    for (int j = 0; j < kNR; ++j) acc[r][j] = accumulate ? c[r * ldc + j] : 0.0f;
  for (int64_t k = 0; k < kc; ++k) {
    float b[kNR];
    for (int j = 0; j < kNR; ++j) b[j] = Widen(bp[k * kNR + j]);
    for (int r = 0; r < kMR; ++r) {
      const float av = a[r][k];
      for (int j = 0; j < kNR; ++j) acc[r][j] += av * b[j];
    }
  }
  for (int r = 0; r < kMR; ++r) std::memcpy(c + r * ldc, acc[r], sizeof acc[r]);
}

float widen_f32(float v) { return v; }
float widen_f16(uint16_t v) { return half_to_float(v); }
float widen_bf16(uint16_t v) { return bf16_to_float(v); }

void kernel_f32(int64_t kc, const float* const* ap, const float* bp, float* c, int64_t ldc, bool accumulate) {
  kernel<float, widen_f32>(kc, ap, bp, c, ldc, accumulate);
}
void kernel_f16(int64_t kc, const float* const* ap, const uint16_t* bp, float* c, int64_t ldc, bool accumulate) {
  kernel<uint16_t, widen_f16>(kc, ap, bp, c, ldc, accumulate);
}
void kernel_bf16(int64_t kc, const float* const* ap, const uint16_t* bp, float* c, int64_t ldc, bool accumulate) {
  kernel<uint16_t, widen_bf16>(kc, ap, bp, c, ldc, accumulate);
}

const GemmMicroKernel& choose() {
  const char* forced = std::getenv("SD_GEMM_KERNEL");
  const std::string want = forced ? forced : "";
#ifdef SD_X86_KERNELS
  const CpuFeatures& f = cpu_features();
  if ((want.empty() || want == "avx512bf16") && f.avx512f && f.avx512bf16) {
    // The fp32/fp16 paths of the AVX-512 kernel, plus bf16 products.
    static const GemmMicroKernel k = [] {
      GemmMicroKernel x = avx512_gemm_kernel();
      x.name = "avx512 14x32 + bf16 dot";
      x.bf16_dot = gemm_bf16_dot_avx512;
      x.to_bf16 = convert_row_bf16_avx512;
      // AMX when the CPU has it and Linux lets us use it (SD_AMX=0 turns it off).
      const char* amx_env = std::getenv("SD_AMX");
      if (cpu_features().amx_bf16 && !(amx_env && std::string(amx_env) == "0") && amx_request_permission()) {
        x.name = "avx512 14x32 + amx-bf16";
        x.amx_32x32 = gemm_amx_32x32;
      }
      return x;
    }();
    return k;
  }
  if ((want.empty() || want == "avx512" || want == "avx512bf16") && f.avx512f) return avx512_gemm_kernel();
  if ((want.empty() || want == "avx2" || want == "avx512") && f.avx2 && f.f16c) return avx2_gemm_kernel();
#endif
  return generic_gemm_kernel();
}

}  // namespace

const GemmMicroKernel& generic_gemm_kernel() {
  static const GemmMicroKernel k{"generic 4x16", KernelIsa::Generic, kMR, kNR, kernel_f32, kernel_f16, kernel_bf16, nullptr, nullptr, nullptr};
  return k;
}

const GemmMicroKernel& active_gemm_kernel() {
  static const GemmMicroKernel& k = choose();
  return k;
}

}  // namespace sd
