// .safetensors: u64 header length | JSON header | raw little-endian data.
// The header is validated completely (size limit, known dtypes, offsets in
// bounds, byte counts matching shapes, no overlaps) before any tensor is read.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/mapped_file.h"
#include "io/checkpoint.h"

namespace sd {

struct SafetensorsEntry {
  size_t begin = 0;  // absolute file offset of the first byte
  size_t bytes = 0;
};

class SafetensorsFile final : public Checkpoint {
 public:
  // Headers above this are refused: real ones are < 200 KB; the official
  // library uses the same 100 MB bound.
  static constexpr size_t kMaxHeaderBytes = 100u * 1024 * 1024;

  explicit SafetensorsFile(const std::string& path);

  const char* format() const override { return "safetensors"; }
  std::string metadata(const std::string& key) const override;
  const std::map<std::string, std::string>& all_metadata() const { return metadata_; }
  std::map<std::string, std::string> metadata_map() const override { return metadata_; }

  Tensor read(const StoredTensor& t, DType dtype) const override;
  using Checkpoint::read;

  // Zero-copy view of a tensor's bytes in the mapping (keeps the file mapped
  // while the tensor lives). Falls back to a copy when the data is misaligned.
  Tensor view(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<SafetensorsEntry> entries_;  // parallel to tensors_
  std::map<std::string, std::string> metadata_;
};

}  // namespace sd
