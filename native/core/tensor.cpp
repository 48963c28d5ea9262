#include "core/tensor.h"

#include <cstring>
#include <sstream>

#include "core/host_allocator.h"

namespace sd {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype, size_t offset_bytes)
    : storage_(std::move(storage)), offset_(offset_bytes), shape_(std::move(shape)), dtype_(dtype) {
  for (const int64_t d : shape_) SD_CHECK(d >= 0, "negative dimension in ", shape_str(shape_));
  SD_CHECK(storage_ == nullptr || offset_ + nbytes() <= storage_->bytes(), "tensor ", shape_str(shape_),
           " does not fit its storage");
}

Tensor Tensor::host(const Shape& shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  return Tensor(host_allocate(bytes), shape, dtype);
}

Tensor Tensor::host_zeros(const Shape& shape, DType dtype) {
  Tensor t = host(shape, dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::borrow(void* data, const Shape& shape, DType dtype, Device device) {
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  return Tensor(std::make_shared<Storage>(data, bytes, device), shape, dtype);
}

Tensor Tensor::from_floats(const std::vector<float>& values, const Shape& shape) {
  SD_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_floats: ", values.size(),
           " values for shape ", shape_str(shape));
  Tensor t = host(shape, DType::F32);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * 4);
  return t;
}

int64_t Tensor::dim(int i) const {
  const int n = ndim();
  const int j = i < 0 ? i + n : i;
  SD_CHECK(j >= 0 && j < n, "dimension ", i, " out of range for ", shape_str(shape_));
  return shape_[static_cast<size_t>(j)];
}

Tensor Tensor::reshape(const Shape& shape) const {
  SD_CHECK(shape_numel(shape) == numel(), "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
  return Tensor(storage_, shape, dtype_, offset_);
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  SD_CHECK(ndim() >= 1 && begin >= 0 && begin <= end && end <= shape_[0], "slice [", begin, ", ", end, ") out of ",
           shape_str(shape_));
  Shape s = shape_;
  s[0] = end - begin;
  const size_t row_bytes = shape_[0] == 0 ? 0 : nbytes() / static_cast<size_t>(shape_[0]);
  return Tensor(storage_, s, dtype_, offset_ + static_cast<size_t>(begin) * row_bytes);
}

Tensor Tensor::clone_host(bool to_f32) const {
  SD_CHECK(device() == Device::CPU, "clone_host needs a host tensor; download it first");
  if (to_f32 && dtype_ != DType::F32) {
    Tensor out = host(shape_, DType::F32);
    convert_to_f32(dtype_, raw(), out.data<float>(), static_cast<size_t>(numel()));
    return out;
  }
  Tensor out = host(shape_, dtype_);
  std::memcpy(out.raw(), raw(), nbytes());
  return out;
}

std::string Tensor::describe() const { return concat(dtype_name(dtype_), ' ', shape_str(shape_)); }

}  // namespace sd
