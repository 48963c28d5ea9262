#include "model/residency.h"

#include <algorithm>

namespace sd {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class AllResident final : public WeightResidency {
 public:
  AllResident(Backend& backend, WeightStore&& store, DType storage) {
    for (const std::string& name : store.names_with_prefix("")) {
      const Tensor& host = store.get(name);
      if (!is_network_weight(name, host.dtype())) continue;
      DeviceWeight w = backend.prepare_weight(name, host, weight_kind_for(name, host.shape()), storage);
      bytes_ += w.bytes();
      weights_.emplace(name, std::move(w));
      store.put(name, Tensor());  // drop the host copy now, not at the end
    }
  }

  const DeviceWeight& get(const std::string& name) override {
    const DeviceWeight* w = find(name);
    SD_CHECK(w != nullptr, "the checkpoint has no weight \"", name, "\"; is it an SD 1.x model?");
    return *w;
  }
  const DeviceWeight* find(const std::string& name) override {
    const auto it = weights_.find(name);
    return it == weights_.end() ? nullptr : &it->second;
  }
  size_t resident_bytes() const override { return bytes_; }
  size_t peak_resident_bytes() const override { return bytes_; }

 private:
  std::unordered_map<std::string, DeviceWeight> weights_;
  size_t bytes_ = 0;
};

}  // namespace

WeightKind weight_kind_for(const std::string& name, const Shape& shape) {
  if (shape.size() == 4) return WeightKind::Conv;
  if (shape.size() == 2) return ends_with(name, "embedding.weight") ? WeightKind::Table : WeightKind::Matrix;
  return WeightKind::Vector;
}

bool is_network_weight(const std::string& name, DType dtype) {
  if (!is_float(dtype)) return false;  // position_ids
  return name.rfind("model.diffusion_model.", 0) == 0 || name.rfind("first_stage_model.", 0) == 0 ||
         name.rfind("cond_stage_model.", 0) == 0;
}

std::unique_ptr<WeightResidency> make_all_resident(Backend& backend, WeightStore&& store, DType storage) {
  return std::make_unique<AllResident>(backend, std::move(store), storage);
}

}  // namespace sd
