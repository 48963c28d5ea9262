#include "backend/cuda/pinned_arena.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <new>

namespace sd {
namespace cuda {

PinnedArena::PinnedArena(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}

PinnedArena::~PinnedArena() {
  for (const Chunk& c : chunks_) {
    if (c.pinned) cudaFreeHost(c.data);
    else std::free(c.data);
  }
}

std::shared_ptr<Storage> PinnedArena::allocate(size_t bytes) {
  const size_t need = (bytes + 255) / 256 * 256;
  if (chunks_.empty() || chunks_.back().used + need > chunks_.back().size) {
    Chunk c{nullptr, need > chunk_bytes_ ? need : chunk_bytes_, 0, true};
    if (cudaHostAlloc(reinterpret_cast<void**>(&c.data), c.size, cudaHostAllocDefault) != cudaSuccess) {
      cudaGetLastError();
      c.pinned = false;
      pinned_ = false;
      c.data = static_cast<uint8_t*>(std::malloc(c.size));
      if (!c.data) throw std::bad_alloc();
    }
    chunks_.push_back(c);
  }
  Chunk& c = chunks_.back();
  void* p = c.data + c.used;
  c.used += need;
  total_ += need;
  return std::make_shared<PinnedStorage>(shared_from_this(), p, bytes);
}

}  // namespace cuda
}  // namespace sd
