// Register-blocked micro-kernels, one set per instruction set. Each computes a
// full MR x NR tile: C = (accumulate ? C : 0) + sum over k of Ap[k][r] * Bp[k][j],
// with Ap packed [kc][MR] (fp32) and Bp a weight panel slice [kc][NR] in the
// weight's storage type. Partial tiles go through a scratch tile in gemm.cpp.
#pragma once

#include <cstdint>

namespace sd {

struct GemmMicroKernel {
  const char* name;
  int mr;
  int nr;
  void (*f32)(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate);
  void (*f16)(int64_t kc, const float* ap, const uint16_t* bp, float* c, int64_t ldc, bool accumulate);
  void (*bf16)(int64_t kc, const float* ap, const uint16_t* bp, float* c, int64_t ldc, bool accumulate);
};

const GemmMicroKernel& generic_gemm_kernel();
#ifdef SD_X86_KERNELS
const GemmMicroKernel& avx2_gemm_kernel();    // isa/gemm_avx2.cpp, built with -mavx2 -mfma -mf16c
const GemmMicroKernel& avx512_gemm_kernel();  // isa/gemm_avx512.cpp, built with -mavx512*
#endif

// The best kernel this CPU runs (SD_GEMM_KERNEL=generic|avx2|avx512 overrides, for tests).
const GemmMicroKernel& active_gemm_kernel();

}  // namespace sd
