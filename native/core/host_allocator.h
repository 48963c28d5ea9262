// The host side's caching allocator. Large activation buffers are returned to
// a free list instead of the OS, so the next UNet step reuses pages that are
// already mapped: re-faulting freed gigabytes every step cost PyTorch 4x on
// this kind of machine (see the CPU-speed issue).
#pragma once

#include <cstddef>
#include <memory>

#include "core/tensor.h"

namespace sd {

struct HostMemoryStats {
  size_t in_use = 0;     // bytes handed out now
  size_t cached = 0;     // bytes held in free lists
  size_t peak_in_use = 0;
  // Bytes newly mapped from the OS so far (each page faults in on first use):
  // flat from one UNet step to the next when the cache does its job.
  size_t mapped_total = 0;
};

std::shared_ptr<Storage> host_allocate(size_t bytes);
HostMemoryStats host_memory_stats();
void host_reset_peak();
// Returns cached blocks to the OS (after a generation, or before loading a model).
void host_trim();
// Returns only the cached blocks larger than a block for `bytes` would be.
void host_trim_larger_than(size_t bytes);

}  // namespace sd
