// PyTorch .ckpt / .pt files (torch.save's zip format, PyTorch >= 1.6):
//   <archive>/data.pkl      the pickled object, e.g. {"state_dict": OrderedDict(name -> tensor)}
//   <archive>/data/<key>    raw little-endian bytes of storage <key>
//   <archive>/version, byteorder, .data/serialization_id (newer writers)
// A tensor is `_rebuild_tensor_v2(storage, offset, size, stride, ...)`, the
// storage a persistent id ('storage', torch.FloatStorage, '<key>', 'cpu', numel).
// The pickle is read by the restricted reader (io/pickle_reader.h): nothing
// in the file is ever executed.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/mapped_file.h"
#include "io/checkpoint.h"
#include "io/zip_reader.h"

namespace sd {

class TorchCheckpoint final : public Checkpoint {
 public:
  // data.pkl above this is refused (sd-v1-4.ckpt's is about 1 MB).
  static constexpr uint64_t kMaxPickleBytes = uint64_t{128} << 20;

  explicit TorchCheckpoint(const std::string& path);

  const char* format() const override { return "ckpt"; }
  // Scalars stored beside the state dict (e.g. "global_step", "epoch").
  std::string metadata(const std::string& key) const override;
  std::map<std::string, std::string> metadata_map() const override { return metadata_; }

  Tensor read(const StoredTensor& t, DType dtype) const override;
  using Checkpoint::read;

 private:
  struct Storage {
    const ZipEntry* entry = nullptr;
    DType dtype = DType::F32;
    uint64_t numel = 0;
  };

  std::shared_ptr<MappedFile> file_;
  std::unique_ptr<ZipReader> zip_;
  std::vector<Storage> storages_;
  // Stored entries get their CRC checked on first use (a pass over bytes the
  // conversion reads anyway); deflated ones are checked whenever inflated.
  std::unique_ptr<std::atomic<bool>[]> crc_checked_;
  std::map<std::string, std::string> metadata_;
  // The last inflated storage, for tensors that are views of one storage.
  mutable std::mutex inflated_mutex_;
  mutable size_t inflated_index_ = SIZE_MAX;
  mutable std::shared_ptr<const ZipData> inflated_;

  friend class TorchCheckpointBuilder;
};

}  // namespace sd
