// Register-blocked micro-kernels, one set per instruction set. Each computes a
// full MR x NR tile: C = (accumulate ? C : 0) + sum over k of A[r][k] * Bp[k][j],
// with A given as MR row pointers (each row kc contiguous floats: a dense
// activation row, one tap of an NHWC pixel, or a zero row for padding) and Bp a
// weight panel slice [kc][NR] in the weight's storage type. Reading A in place
// spares the pack; partial tiles go through a scratch tile in gemm.cpp.
#pragma once

#include <cstdint>

namespace sd {

// The instruction set a kernel is built for. Code with its own vector loops
// (element loops, Winograd's transforms) follows the kernel in use, so a CPU
// and the SD_GEMM_KERNEL override choose one instruction set for everything.
enum class KernelIsa { Generic, Avx2, Avx512 };

struct GemmMicroKernel {
  const char* name;
  KernelIsa isa;
  int mr;
  int nr;
  void (*f32)(int64_t kc, const float* const* a, const float* bp, float* c, int64_t ldc, bool accumulate);
  void (*f16)(int64_t kc, const float* const* a, const uint16_t* bp, float* c, int64_t ldc, bool accumulate);
  void (*bf16)(int64_t kc, const float* const* a, const uint16_t* bp, float* c, int64_t ldc, bool accumulate);
  // bf16 products (A rows in bf16, B packed in k pairs), or nullptr where the
  // CPU has no bf16 dot product: then bf16 weights are widened to fp32 instead.
  void (*bf16_dot)(int64_t k_pairs, const uint16_t* const* a, const uint16_t* bp, float* c, int64_t ldc,
                   bool accumulate);
  void (*to_bf16)(const float* src, uint16_t* dst, int64_t n);
  // AMX tiles for bf16 products, 32 x 32 per call over K-blocks that are
  // multiples of 32 (A as bf16 rows with a stride); nullptr without AMX.
  void (*amx_32x32)(int64_t kc, const uint16_t* a, int64_t lda, const uint16_t* bp, float* c, int64_t ldc,
                    bool accumulate);
  // fp16 -> fp32 for a weight panel slice (n a multiple of 16); nullptr: widen in the kernel.
  void (*widen_f16)(const uint16_t* src, float* dst, int64_t n) = nullptr;
};

const GemmMicroKernel& generic_gemm_kernel();
#ifdef SD_X86_KERNELS
const GemmMicroKernel& avx2_gemm_kernel();    // isa/gemm_avx2.cpp, built with -mavx2 -mfma -mf16c
const GemmMicroKernel& avx512_gemm_kernel();  // isa/gemm_avx512.cpp, built with -mavx512*
// isa/gemm_avx512bf16.cpp, built with -mavx512bf16 (same 14 x 32 tile)
void gemm_bf16_dot_avx512(int64_t k_pairs, const uint16_t* const* a, const uint16_t* bp, float* c, int64_t ldc,
                          bool accumulate);
void convert_row_bf16_avx512(const float* src, uint16_t* dst, int64_t n);
// isa/gemm_amx.cpp, built with -mamx-tile -mamx-bf16
bool amx_request_permission();
void gemm_amx_32x32(int64_t kc, const uint16_t* a, int64_t lda, const uint16_t* bp, float* c, int64_t ldc,
                    bool accumulate);
#endif

// The best kernel this CPU runs (SD_GEMM_KERNEL=generic|avx2|avx512 overrides, for tests).
const GemmMicroKernel& active_gemm_kernel();

}  // namespace sd
