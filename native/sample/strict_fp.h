// Include FIRST, and only from .cpp files: turns off floating-point
// contraction (fusing a * b + c into one FMA) for the rest of the file.
//
// The sampling code reproduces PyTorch's float32/float64 arithmetic value for
// value (RNG output bit for bit, schedules and timesteps to the last ulp), and
// torch's CPU kernels round every product before adding. GCC contracts across
// statements whenever the target has FMA (-march=native), even in ISO C++
// mode, and clang contracts within expressions by default, so the result
// would depend on the build machine.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#endif
