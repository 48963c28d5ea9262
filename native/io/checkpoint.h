// Reading model weights from a checkpoint file, whatever its format.
// Tensors are listed first (cheap: headers only) and converted one at a time
// into the precision the engine stores, so a 4 GB fp32 file never exists
// twice in memory.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sd {

// One tensor as the file stores it, before conversion.
struct StoredTensor {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  // Element strides; empty means contiguous row-major (PyTorch can save views).
  std::vector<int64_t> strides;
  int64_t storage_offset = 0;  // elements from the start of the storage
  size_t storage_index = 0;    // which storage of the file (format-specific)
};

class Checkpoint {
 public:
  virtual ~Checkpoint() = default;

  const std::string& path() const { return path_; }
  // "safetensors" or "ckpt".
  virtual const char* format() const = 0;
  const std::vector<StoredTensor>& tensors() const { return tensors_; }
  const StoredTensor* find(const std::string& name) const;
  // A metadata string (safetensors __metadata__), or "" when absent.
  virtual std::string metadata(const std::string& key) const;
  // Every metadata string: safetensors __metadata__, or the scalars a .ckpt
  // stores beside its state dict (e.g. "global_step").
  virtual std::map<std::string, std::string> metadata_map() const { return {}; }

  // Converts one tensor into a new contiguous host tensor of `dtype` (a float
  // type for float tensors; integer tensors keep their type when dtype is not
  // a float type). Source pages are released afterwards where possible.
  virtual Tensor read(const StoredTensor& t, DType dtype) const = 0;
  Tensor read(const std::string& name, DType dtype) const;

 protected:
  std::string path_;
  std::vector<StoredTensor> tensors_;
};

// Opens a .safetensors or PyTorch .ckpt/.pt file, chosen by its first bytes
// (not its name). Throws sd::Error with a clear reason on anything malformed.
std::unique_ptr<Checkpoint> open_checkpoint(const std::string& path);

// Copies a possibly strided tensor out of `storage` (storage_bytes long,
// elements of src_dtype) into `out` (contiguous, dtype of `out`), checking
// every index against the storage bounds first.
void gather_stored_tensor(const uint8_t* storage, size_t storage_bytes, DType src_dtype, const StoredTensor& t,
                          Tensor& out);

}  // namespace sd
