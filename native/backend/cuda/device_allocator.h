// Device memory for one GPU: a caching allocator (cudaMalloc is slow and
// synchronising) with a byte budget it enforces (--vram-budget) and a peak it
// reports. Blocks are reused by exact rounded size.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include "core/tensor.h"

namespace sd {
namespace cuda {

struct DeviceMemoryStats {
  size_t in_use = 0;
  size_t cached = 0;
  size_t peak_in_use = 0;
  size_t peak_reserved = 0;  // in use + cached: what the process holds on the GPU
  size_t budget = 0;         // 0 = none
};

class DeviceAllocator : public std::enable_shared_from_this<DeviceAllocator> {
 public:
  explicit DeviceAllocator(int device, size_t budget_bytes);
  ~DeviceAllocator();

  // Throws sd::Error when the budget or the GPU is exhausted (after freeing the cache).
  std::shared_ptr<Storage> allocate(size_t bytes, const char* what);
  DeviceMemoryStats stats();
  void reset_peak();
  void release_cache();
  void set_budget(size_t bytes);

 private:
  friend class DeviceStorage;
  void give_back(void* p, size_t rounded);

  int device_;
  std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  DeviceMemoryStats stats_;
};

}  // namespace cuda
}  // namespace sd
