// Page-locked host memory for weights that are uploaded again and again
// (--medvram / --lowvram): only pinned memory lets a copy overlap compute.
// Allocated in chunks so a 2 GB model never needs 2 GB twice while moving in.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace sd {
namespace cuda {

class PinnedArena : public std::enable_shared_from_this<PinnedArena> {
 public:
  explicit PinnedArena(size_t chunk_bytes = 64u << 20);
  ~PinnedArena();
  // 256-byte aligned, pinned if the driver allows (else ordinary memory: slower, still correct).
  std::shared_ptr<Storage> allocate(size_t bytes);
  size_t bytes() const { return total_; }
  bool pinned() const { return pinned_; }

 private:
  struct Chunk {
    uint8_t* data;
    size_t size;
    size_t used;
    bool pinned;
  };
  size_t chunk_bytes_;
  std::vector<Chunk> chunks_;
  size_t total_ = 0;
  bool pinned_ = true;
};

// A storage inside the arena: uploads from it skip all conversion.
class PinnedStorage final : public Storage {
 public:
  PinnedStorage(std::shared_ptr<PinnedArena> arena, void* p, size_t bytes)
      : Storage(p, bytes, Device::CPU), arena_(std::move(arena)) {}

 private:
  std::shared_ptr<PinnedArena> arena_;
};

}  // namespace cuda
}  // namespace sd
