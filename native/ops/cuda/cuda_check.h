// Every CUDA call goes through SD_CUDA_CHECK: a failure becomes an sd::Error
// naming the operation and CUDA's reason (a JS exception in the addon), never
// a silent wrong image and never exit().
#pragma once

#include <cuda_runtime.h>

#include "core/error.h"

#define SD_CUDA_CHECK(call, what)                                                                    \
  do {                                                                                               \
    const cudaError_t sd_cuda_err_ = (call);                                                         \
    if (sd_cuda_err_ != cudaSuccess)                                                                 \
      ::sd::fail("CUDA error in ", what, ": ", cudaGetErrorName(sd_cuda_err_), " (",                \
                 cudaGetErrorString(sd_cuda_err_), ")");                                             \
  } while (0)

// After a kernel launch: launch-configuration errors surface here, asynchronous
// faults at the next synchronising call (also checked).
#define SD_CUDA_CHECK_LAUNCH(what) SD_CUDA_CHECK(cudaGetLastError(), what)
