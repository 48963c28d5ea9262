#include "io/checkpoint.h"

#include <cstring>
#include <fstream>

#include "io/safetensors.h"

namespace sd {

const StoredTensor* Checkpoint::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::string Checkpoint::metadata(const std::string&) const { return {}; }

Tensor Checkpoint::read(const std::string& name, DType dtype) const {
  const StoredTensor* t = find(name);
  SD_CHECK(t != nullptr, path_, " has no tensor \"", name, "\"");
  return read(*t, dtype);
}

namespace {

void convert_one(DType src_type, const uint8_t* src, DType dst_type, uint8_t* dst) {
  if (src_type == dst_type) {
    std::memcpy(dst, src, dtype_size(src_type));
    return;
  }
  float f;
  convert_to_f32(src_type, src, &f, 1);
  convert_from_f32(&f, dst_type, dst, 1);
}

}  // namespace

void gather_stored_tensor(const uint8_t* storage, size_t storage_bytes, DType src_dtype, const StoredTensor& t,
                          Tensor& out) {
  const size_t esize = dtype_size(src_dtype);
  const int64_t numel = shape_numel(t.shape);
  SD_CHECK(out.numel() == numel, "internal: gather size mismatch for ", t.name);
  if (numel == 0) return;
  const size_t storage_elems = storage_bytes / esize;
  const bool contiguous = t.strides.empty();
  // Highest element index touched, to validate before reading anything.
  int64_t max_index = t.storage_offset;
  if (contiguous) {
    max_index += numel - 1;
  } else {
    SD_CHECK(t.strides.size() == t.shape.size(), "tensor \"", t.name, "\" has ", t.strides.size(), " strides for ",
             t.shape.size(), " dimensions");
    for (size_t d = 0; d < t.shape.size(); ++d) {
      SD_CHECK(t.strides[d] >= 0, "tensor \"", t.name, "\" has a negative stride");
      max_index += (t.shape[d] - 1) * t.strides[d];
    }
  }
  SD_CHECK(t.storage_offset >= 0 && max_index >= 0 && static_cast<size_t>(max_index) < storage_elems, "tensor \"",
           t.name, "\" reads past the end of its storage (", storage_elems, " elements)");

  uint8_t* dst = static_cast<uint8_t*>(out.raw());
  const DType dst_type = out.dtype();
  const size_t dsize = dtype_size(dst_type);
  const uint8_t* base = storage + static_cast<size_t>(t.storage_offset) * esize;
  if (contiguous) {
    if (src_dtype == dst_type) {
      std::memcpy(dst, base, static_cast<size_t>(numel) * esize);
    } else if (dst_type == DType::F32) {
      convert_to_f32(src_dtype, base, reinterpret_cast<float*>(dst), static_cast<size_t>(numel));
    } else if (src_dtype == DType::F32) {
      // Aligned copies only: the source may sit at any byte offset.
      std::vector<float> chunk(4096);
      for (int64_t i = 0; i < numel; i += 4096) {
        const size_t n = static_cast<size_t>(std::min<int64_t>(4096, numel - i));
        std::memcpy(chunk.data(), base + static_cast<size_t>(i) * 4, n * 4);
        convert_from_f32(chunk.data(), dst_type, dst + static_cast<size_t>(i) * dsize, n);
      }
    } else {
      for (int64_t i = 0; i < numel; ++i)
        convert_one(src_dtype, base + static_cast<size_t>(i) * esize, dst_type, dst + static_cast<size_t>(i) * dsize);
    }
    return;
  }
  // Strided: walk the index space with a counter per dimension.
  const size_t nd = t.shape.size();
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < numel; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < nd; ++d) off += idx[d] * t.strides[d];
    convert_one(src_dtype, base + static_cast<size_t>(off) * esize, dst_type, dst + static_cast<size_t>(i) * dsize);
    for (size_t d = nd; d-- > 0;) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
}

std::unique_ptr<Checkpoint> open_pytorch_checkpoint(const std::string& path);  // io/torch_checkpoint.cpp

std::unique_ptr<Checkpoint> open_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SD_CHECK(in.good(), "cannot open ", path);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0) return open_pytorch_checkpoint(path);
  if (in.gcount() == 4 && std::memcmp(magic, "PK", 2) == 0)
    fail(path, " is a zip archive that does not start with a file entry; it is not a PyTorch checkpoint");
  return std::make_unique<SafetensorsFile>(path);
}

}  // namespace sd
