#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/json.h"

namespace sd {

namespace {

// Keeps the mapping alive for as long as any view of it exists.
class MappedStorage final : public Storage {
 public:
  MappedStorage(std::shared_ptr<MappedFile> file, const uint8_t* data, size_t bytes)
      : Storage(const_cast<uint8_t*>(data), bytes, Device::CPU), file_(std::move(file)) {}

 private:
  std::shared_ptr<MappedFile> file_;
};

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A non-negative integer that a double holds exactly (JSON numbers are doubles).
bool is_index(const Json& j) {
  if (!j.is_number()) return false;
  const double d = j.as_number();
  return d >= 0 && d <= 9007199254740992.0 && d == static_cast<double>(static_cast<int64_t>(d));
}

bool mul_overflows(size_t a, size_t b, size_t* out) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) return true;
  *out = a * b;
  return false;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) {
  path_ = path;
  file_ = std::make_shared<MappedFile>(path);
  const size_t size = file_->size();
  const auto bad = [&](const auto&... why) { fail(path, " is not a valid .safetensors file: ", why...); };
  if (size < 8) bad("it is ", size, " bytes long (truncated?)");
  const uint64_t header_len = read_u64_le(file_->data());
  if (header_len > kMaxHeaderBytes) bad("header length ", header_len, " is over the ", kMaxHeaderBytes, "-byte limit");
  if (header_len < 2 || 8 + header_len > size) bad("header length ", header_len, " does not fit the ", size, "-byte file");
  const size_t data_start = 8 + static_cast<size_t>(header_len);
  const size_t data_size = size - data_start;

  Json header;
  try {
    header = Json::parse(std::string_view(reinterpret_cast<const char*>(file_->data() + 8), header_len), 16);
  } catch (const Error& e) {
    bad("header: ", e.what());
  }
  if (!header.is_object()) bad("header is not a JSON object");

  struct Range {
    size_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  for (const auto& [name, entry] : header.as_object()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad("__metadata__ is not an object");
      for (const auto& [k, v] : entry.as_object()) {
        if (!v.is_string()) bad("metadata value \"", k, "\" is not a string");
        metadata_[k] = v.as_string();
      }
      continue;
    }
    if (!entry.is_object()) bad("entry \"", name, "\" is not an object");
    const Json* dtype = entry.find("dtype");
    const Json* shape = entry.find("shape");
    const Json* offsets = entry.find("data_offsets");
    if (!dtype || !dtype->is_string() || !shape || !shape->is_array() || !offsets || !offsets->is_array())
      bad("entry \"", name, "\" needs dtype, shape and data_offsets");
    StoredTensor t;
    t.name = name;
    if (!parse_dtype(dtype->as_string(), &t.dtype)) bad("tensor \"", name, "\" has unknown dtype ", dtype->as_string());
    size_t numel = 1;
    if (shape->as_array().size() > 8) bad("tensor \"", name, "\" has more than 8 dimensions");
    for (const Json& d : shape->as_array()) {
      if (!is_index(d)) bad("tensor \"", name, "\" has an invalid shape");
      const auto dim = static_cast<size_t>(d.as_number());
      if (mul_overflows(numel, dim, &numel)) bad("tensor \"", name, "\" shape overflows");
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = offsets->as_array();
    if (off.size() != 2 || !is_index(off[0]) || !is_index(off[1]) || off[1].as_number() < off[0].as_number())
      bad("tensor \"", name, "\" has invalid data_offsets");
    const double b = off[0].as_number(), e = off[1].as_number();
    if (e > static_cast<double>(data_size))
      bad("tensor \"", name, "\" ends at ", static_cast<uint64_t>(e), ", past the ", data_size, " bytes of data (truncated file?)");
    const auto begin = static_cast<size_t>(b), end = static_cast<size_t>(e);
    size_t expected = 0;
    if (mul_overflows(numel, dtype_size(t.dtype), &expected) || expected != end - begin)
      bad("tensor \"", name, "\" has ", end - begin, " bytes but its shape ", shape_str(t.shape), " of ",
          dtype_name(t.dtype), " needs ", expected);
    t.storage_index = tensors_.size();
    ranges.push_back({begin, end, tensors_.size()});
    tensors_.push_back(std::move(t));
    entries_.push_back({data_start + begin, end - begin});
  }
  // Empty tensors take no bytes and may sit anywhere; every other range must
  // start at or after the furthest end seen so far (holes are allowed).
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  const Range* furthest = nullptr;
  for (const Range& r : ranges) {
    if (r.end == r.begin) continue;
    if (furthest != nullptr && r.begin < furthest->end)
      bad("tensors \"", tensors_[furthest->index].name, "\" and \"", tensors_[r.index].name, "\" overlap");
    if (furthest == nullptr || r.end > furthest->end) furthest = &r;
  }
  // Duplicate names make "which one wins" ambiguous; the JSON reader keeps both, so check here.
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& t : tensors_) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  const auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) bad("tensor \"", *dup, "\" appears twice");
}

std::string SafetensorsFile::metadata(const std::string& key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? std::string() : it->second;
}

Tensor SafetensorsFile::read(const StoredTensor& t, DType dtype) const {
  const SafetensorsEntry& e = entries_.at(t.storage_index);
  const DType out_type = (is_float(t.dtype) && is_float(dtype)) ? dtype : t.dtype;
  Tensor out = Tensor::host(t.shape, out_type);
  gather_stored_tensor(file_->data() + e.begin, e.bytes, t.dtype, t, out);
  file_->release(e.begin, e.bytes);
  return out;
}

Tensor SafetensorsFile::view(const std::string& name) const {
  const StoredTensor* t = find(name);
  SD_CHECK(t != nullptr, path_, " has no tensor \"", name, "\"");
  const SafetensorsEntry& e = entries_.at(t->storage_index);
  const uint8_t* p = file_->data() + e.begin;
  if (reinterpret_cast<uintptr_t>(p) % dtype_size(t->dtype) != 0) return read(*t, t->dtype);
  return Tensor(std::make_shared<MappedStorage>(file_, p, e.bytes), t->shape, t->dtype);
}

}  // namespace sd
