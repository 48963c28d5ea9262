// The machine's own ceiling, measured, so "efficiency" means the same thing on
// every CPU: a register-resident FMA loop on all compute threads.
#pragma once

namespace sd {

// fp32 GFLOP/s of independent FMA chains on every thread of the compute pool
// (AVX-512 or AVX2, whichever the GEMM uses).
double measure_fp32_peak_gflops(double seconds = 0.5);
// bf16-product GFLOP/s of the GEMM's bf16 kernel on data in L1 (AMX tiles or
// AVX512-BF16), on every thread; 0 where the CPU has neither.
double measure_bf16_peak_gflops(double seconds = 0.5);

}  // namespace sd
