// What the CPU can run, asked once (cpuid), so kernels are picked at run time
// and one build runs on every x86-64 machine of a kind.
#pragma once

#include <string>

namespace sd {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;   // with BW, DQ, VL (the Skylake-X set)
  bool avx512bf16 = false;
  bool amx_bf16 = false;
  std::string summary() const;  // "avx512 avx512bf16 ..." for reports
};

const CpuFeatures& cpu_features();

}  // namespace sd
