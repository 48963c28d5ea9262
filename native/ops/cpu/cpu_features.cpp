#include "ops/cpu/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace sd {

namespace {

#if defined(__x86_64__) || defined(_M_X64)
void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int regs[4];
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(regs[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

unsigned long long xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned max_leaf = r[0];
  cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1;
  f.fma = (r[2] >> 12) & 1;
  f.f16c = (r[2] >> 29) & 1;
  if (!osxsave || max_leaf < 7) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymm_os = (xcr0 & 0x6) == 0x6;           // SSE + AVX state
  const bool zmm_os = (xcr0 & 0xe6) == 0xe6;         // + opmask, ZMM hi
  const bool amx_os = (xcr0 & 0x60000) == 0x60000;   // XTILECFG + XTILEDATA
  cpuid(7, 0, r);
  const unsigned ebx = r[1], edx = r[3];
  f.avx2 = ymm_os && ((ebx >> 5) & 1) && f.fma;
  const bool avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1, avx512bw = (ebx >> 30) & 1,
             avx512vl = (ebx >> 31) & 1;
  f.avx512f = zmm_os && avx512f && avx512dq && avx512bw && avx512vl && f.avx2;
  f.amx_bf16 = amx_os && ((edx >> 22) & 1) && ((edx >> 24) & 1);
  cpuid(7, 1, r);
  f.avx512bf16 = f.avx512f && ((r[0] >> 5) & 1);
#endif
  return f;
}

}  // namespace

std::string CpuFeatures::summary() const {
  std::string s;
  const auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(fma, "fma");
  add(f16c, "f16c");
  add(avx512f, "avx512");
  add(avx512bf16, "avx512bf16");
  add(amx_bf16, "amx-bf16");
  return s.empty() ? "generic" : s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace sd
