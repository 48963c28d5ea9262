// Tensor: a typed, contiguous, row-major view into a Storage. Shapes are
// written [N, H, W, C] style in comments; image activations are NHWC inside
// the engine (the GEMM-friendly layout) and NCHW only at the API boundary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace sd {

enum class Device : uint8_t { CPU, CUDA };

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);

// A block of memory on one device. Subclasses decide who frees it: the host
// cache, a backend allocator, a memory map, or nobody (borrowed).
class Storage {
 public:
  Storage(void* data, size_t bytes, Device device) : data_(data), bytes_(bytes), device_(device) {}
  virtual ~Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 protected:
  void* data_;
  size_t bytes_;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype, size_t offset_bytes = 0);

  // Uninitialised host memory from the caching host allocator (64-byte aligned).
  static Tensor host(const Shape& shape, DType dtype = DType::F32);
  static Tensor host_zeros(const Shape& shape, DType dtype = DType::F32);
  // A view of memory someone else owns; the caller keeps it alive.  // borrowed
  static Tensor borrow(void* data, const Shape& shape, DType dtype, Device device = Device::CPU);
  // A host copy of `values` with the given shape.
  static Tensor from_floats(const std::vector<float>& values, const Shape& shape);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::CPU; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  void* raw() const { return static_cast<uint8_t*>(storage_->data()) + offset_; }
  template <typename T>
  T* data() const;

  // Same storage, new shape with the same element count.
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) of dimension 0, sharing storage.
  Tensor slice0(int64_t begin, int64_t end) const;
  // A host copy (deep), converted to F32 when `to_f32` is set.
  Tensor clone_host(bool to_f32 = false) const;

  std::string describe() const;  // "F32 [2, 77, 768]"

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;
  Shape shape_;
  DType dtype_ = DType::F32;
};

template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::F16; };  // raw 16-bit floats

template <typename T>
T* Tensor::data() const {
  SD_CHECK(storage_ != nullptr, "tensor is empty");
  if constexpr (std::is_same_v<T, uint16_t>) {
    SD_CHECK(dtype_ == DType::F16 || dtype_ == DType::BF16 || dtype_ == DType::I16, "tensor is ", dtype_name(dtype_),
             ", expected a 16-bit type");
  } else {
    SD_CHECK(dtype_ == DTypeOf<T>::value, "tensor is ", dtype_name(dtype_), ", expected ", dtype_name(DTypeOf<T>::value));
  }
  return static_cast<T*>(raw());
}

}  // namespace sd
