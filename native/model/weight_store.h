// The host weight store: every tensor of a model, by checkpoint key, in the
// storage precision (F32, F16 or BF16). Loaded tensor by tensor so that a
// 4 GB fp32 file loads into 2 GB of fp16 without ever holding both.
// Backends read weights from here; the residency layer decides what is on the
// compute device at a given moment.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"

namespace sd {

struct LoadProgress {
  size_t tensors_done = 0;
  size_t tensors_total = 0;
  size_t bytes_done = 0;  // storage bytes written so far
};

class WeightStore {
 public:
  WeightStore() = default;
  WeightStore(WeightStore&&) = default;
  WeightStore& operator=(WeightStore&&) = default;

  // Loads every tensor whose name starts with one of `prefixes` (all when
  // empty). Float tensors are converted to `storage`; others keep their type.
  static WeightStore load(const Checkpoint& ckpt, DType storage, const std::vector<std::string>& prefixes = {},
                          const std::function<void(const LoadProgress&)>& progress = {});

  const Tensor& get(const std::string& name) const;  // throws naming the missing key
  const Tensor* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
  void put(const std::string& name, Tensor t);
  std::vector<std::string> names_with_prefix(const std::string& prefix) const;
  size_t size() const { return tensors_.size(); }
  size_t bytes() const { return bytes_; }
  DType storage_dtype() const { return storage_; }

 private:
  std::unordered_map<std::string, Tensor> tensors_;
  size_t bytes_ = 0;
  DType storage_ = DType::F32;
};

}  // namespace sd
