#include "io/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

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
  uint64_t element = 0;  // aligned copy: `src` may sit at any byte offset
  std::memcpy(&element, src, dtype_size(src_type));
  float f;
  convert_to_f32(src_type, &element, &f, 1);
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
      return;
    }
    // Through float32 in chunks, copying the source to aligned memory first:
    // it may sit at any byte offset of the file.
    constexpr size_t kChunk = 4096;
    std::vector<uint64_t> raw(kChunk * esize / 8 + 1);
    std::vector<float> f32(kChunk);
    for (int64_t i = 0; i < numel; i += static_cast<int64_t>(kChunk)) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(kChunk), numel - i));
      std::memcpy(raw.data(), base + static_cast<size_t>(i) * esize, n * esize);
      if (dst_type == DType::F32) {
        convert_to_f32(src_dtype, raw.data(), reinterpret_cast<float*>(dst) + i, n);
      } else {
        convert_to_f32(src_dtype, raw.data(), f32.data(), n);
        convert_from_f32(f32.data(), dst_type, dst + static_cast<size_t>(i) * dsize, n);
      }
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
  unsigned char head[16] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return open_pytorch_checkpoint(path);
  if (got >= 2 && std::memcmp(head, "PK", 2) == 0)
    fail(path, " is a zip archive that does not start with a file entry; it is not a PyTorch checkpoint");
  // torch.save before PyTorch 1.6 (or with _use_new_zipfile_serialization=False)
  // wrote bare pickles: a PROTO opcode first.
  if (got >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
    fail(path, " uses the legacy PyTorch format (saved before PyTorch 1.6), which is not supported; "
               "use a .safetensors version of the model");
  size_t first = 0;
  while (first < got && (head[first] == ' ' || head[first] == '\n' || head[first] == '\r' || head[first] == '\t')) ++first;
  if (first < got && head[first] == '<')
    fail(path, " is a web page (HTML), not a model: the download probably failed; download it again");
  if (got >= 9 && head[8] != '{')
    fail(path, " is neither a .safetensors file nor a PyTorch .ckpt (unrecognised first bytes); is it a model checkpoint?");
  return std::make_unique<SafetensorsFile>(path);
}

}  // namespace sd
