#include "backend/cuda/device_allocator.h"

#include <cuda_runtime.h>

#include "ops/cuda/cuda_check.h"

namespace sd {
namespace cuda {

namespace {
size_t round_size(size_t bytes) {
  constexpr size_t kSmall = 1 << 20;
  if (bytes <= kSmall) return (bytes + 511) / 512 * 512;
  size_t p = 1;
  while (p < bytes) p <<= 1;
  const size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}
std::string mib(size_t b) { return concat(b / (1024 * 1024), " MiB"); }
}  // namespace

class DeviceStorage final : public Storage {
 public:
  DeviceStorage(std::shared_ptr<DeviceAllocator> owner, void* p, size_t rounded, size_t bytes)
      : Storage(p, bytes, Device::CUDA), owner_(std::move(owner)), rounded_(rounded) {}
  ~DeviceStorage() override { owner_->give_back(data_, rounded_); }

 private:
  std::shared_ptr<DeviceAllocator> owner_;
  size_t rounded_;
};

DeviceAllocator::DeviceAllocator(int device, size_t budget_bytes) : device_(device) { stats_.budget = budget_bytes; }

DeviceAllocator::~DeviceAllocator() { release_cache(); }

std::shared_ptr<Storage> DeviceAllocator::allocate(size_t bytes, const char* what) {
  const size_t rounded = round_size(bytes == 0 ? 1 : bytes);
  void* p = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(rounded);
    if (it != free_.end()) {
      p = it->second;
      free_.erase(it);
      stats_.cached -= rounded;
    } else {
      if (stats_.budget && stats_.in_use + stats_.cached + rounded > stats_.budget) {
        // Give cached blocks back before refusing.
        SD_CUDA_CHECK(cudaSetDevice(device_), "cudaSetDevice");
        for (auto& [size, block] : free_) cudaFree(block);
        free_.clear();
        stats_.cached = 0;
      }
      SD_CHECK(stats_.budget == 0 || stats_.in_use + rounded <= stats_.budget, "the VRAM budget of ", mib(stats_.budget),
               " is exhausted: ", what, " needs ", mib(rounded), " more with ", mib(stats_.in_use),
               " in use; raise --vram-budget, or use --lowvram / a smaller image");
      SD_CUDA_CHECK(cudaSetDevice(device_), "cudaSetDevice");
      cudaError_t err = cudaMalloc(&p, rounded);
      if (err == cudaErrorMemoryAllocation && !free_.empty()) {
        cudaGetLastError();  // clear the sticky-free error state of this call
        SD_CUDA_CHECK(cudaDeviceSynchronize(), "cudaDeviceSynchronize before freeing the cache");
        for (auto& [size, block] : free_) cudaFree(block);
        free_.clear();
        stats_.cached = 0;
        err = cudaMalloc(&p, rounded);
      }
      if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        fail("the GPU is out of memory allocating ", mib(rounded), " for ", what, " (", mib(stats_.in_use),
             " already in use): use --medvram or --lowvram, or a smaller image/batch");
      }
      SD_CUDA_CHECK(err, concat("cudaMalloc for ", what));
    }
    stats_.in_use += rounded;
    stats_.peak_in_use = std::max(stats_.peak_in_use, stats_.in_use);
    stats_.peak_reserved = std::max(stats_.peak_reserved, stats_.in_use + stats_.cached);
  }
  return std::make_shared<DeviceStorage>(shared_from_this(), p, rounded, bytes);
}

void DeviceAllocator::give_back(void* p, size_t rounded) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.in_use -= rounded;
  free_.emplace(rounded, p);
  stats_.cached += rounded;
}

DeviceMemoryStats DeviceAllocator::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void DeviceAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_in_use = stats_.in_use;
  stats_.peak_reserved = stats_.in_use + stats_.cached;
}

void DeviceAllocator::release_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.empty()) return;
  cudaSetDevice(device_);
  cudaDeviceSynchronize();
  for (auto& [size, block] : free_) cudaFree(block);
  free_.clear();
  stats_.cached = 0;
}

void DeviceAllocator::set_budget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.budget = bytes;
}

}  // namespace cuda
}  // namespace sd
