#include "core/host_allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#ifndef _WIN32
#include <sys/mman.h>
#endif

namespace sd {

namespace {

constexpr size_t kAlignment = 64;
// Below this, malloc's own arenas already recycle memory without page faults.
constexpr size_t kCacheMinBytes = 256 * 1024;

size_t round_size(size_t bytes) {
  if (bytes < kCacheMinBytes) return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  // Round to 1/8 of the next power of two so similar sizes share blocks
  // (at most 12.5% waste) while activations of one shape always match.
  size_t p = 1;
  while (p < bytes) p <<= 1;
  const size_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

void* aligned_malloc(size_t bytes) {
#ifdef _WIN32
  return _aligned_malloc(bytes, kAlignment);
#else
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, bytes) != 0) return nullptr;
  return p;
#endif
}

void aligned_free(void* p) {
#ifdef _WIN32
  _aligned_free(p);
#else
  std::free(p);
#endif
}

// Cached blocks are mapped pages of their own, not malloc's: glibc serves
// blocks under its (growing) mmap threshold from heaps it never shrinks, so
// trimmed blocks stayed in the RSS (with the VAE's own savings, a 512x512
// generation went from 3262 to 2771 MiB peak). Transparent huge pages were
// tried: on blocks from 4 MiB they cost 90 MiB of peak RSS for no speed seen,
// on blocks from 32 MiB page clearing took 19% of a bf16 VAE decode, not 9%.
void* map_block(size_t bytes) {
#ifdef _WIN32
  return aligned_malloc(bytes);
#else
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
#endif
}

void unmap_block(void* p, size_t bytes) {
#ifdef _WIN32
  (void)bytes;
  aligned_free(p);
#else
  munmap(p, bytes);
#endif
}

void* allocate(size_t bytes) { return bytes >= kCacheMinBytes ? map_block(bytes) : aligned_malloc(bytes == 0 ? kAlignment : bytes); }
void release(void* p, size_t bytes) {
  if (bytes >= kCacheMinBytes)
    unmap_block(p, bytes);
  else
    aligned_free(p);
}

// Exact-size reuse keeps a UNet step free of page faults (measured: 0 bytes
// newly mapped per step). Serving misses from larger cached blocks, or
// evicting the oldest on a miss, looked like a way to bound the footprint
// automatically, but either one made the cache thrash: 500-580 MiB mapped and
// faulted in again every 256x256 step. Phases that change sizes (sampler ->
// VAE, one VAE level to the next) call host_trim() instead.
class HostCache {
 public:
  void* take(size_t bytes) {
    if (bytes >= kCacheMinBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        stats_.cached -= bytes;
        account(bytes);
        return p;
      }
    }
    void* p = allocate(bytes);
    if (!p) {
      host_trim();
      p = allocate(bytes);
    }
    if (!p) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mutex_);
    account(bytes);
    if (bytes >= kCacheMinBytes) stats_.mapped_total += bytes;
    return p;
  }

  void give_back(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.in_use -= bytes;
    if (bytes >= kCacheMinBytes) {
      free_.emplace(bytes, p);
      stats_.cached += bytes;
    } else {
      release(p, bytes);
    }
  }

  void trim(size_t keep_up_to) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = free_.upper_bound(keep_up_to); it != free_.end();) {
      release(it->second, it->first);
      stats_.cached -= it->first;
      it = free_.erase(it);
    }
  }

  HostMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_in_use = stats_.in_use;
  }

 private:
  void account(size_t bytes) {
    stats_.in_use += bytes;
    if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  HostMemoryStats stats_;
};

HostCache& cache() {
  static HostCache* instance = new HostCache();  // never destroyed: storages may outlive static teardown
  return *instance;
}

class HostStorage final : public Storage {
 public:
  HostStorage(void* data, size_t rounded, size_t bytes) : Storage(data, bytes, Device::CPU), rounded_(rounded) {}
  ~HostStorage() override { cache().give_back(data_, rounded_); }

 private:
  size_t rounded_;
};

}  // namespace

std::shared_ptr<Storage> host_allocate(size_t bytes) {
  const size_t rounded = round_size(bytes);
  void* p = cache().take(rounded);
  return std::make_shared<HostStorage>(p, rounded, bytes);
}

HostMemoryStats host_memory_stats() { return cache().stats(); }
void host_reset_peak() { cache().reset_peak(); }
void host_trim() { cache().trim(0); }
void host_trim_larger_than(size_t bytes) { cache().trim(round_size(bytes)); }

}  // namespace sd
