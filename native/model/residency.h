// Which weights are on the compute device, and when. Models ask for weights
// by checkpoint name inside scopes (a key prefix: "model.diffusion_model." for
// the whole UNet, "model.diffusion_model.input_blocks.4." for one block); the
// memory mode decides what entering and leaving a scope costs, as in
// AUTOMATIC1111's webui:
//   normal    every weight prepared once, at load
//   medvram   one of text encoder, UNet and VAE resident at a time: entering
//             one sends the others back (the UNet stays for a whole sampling run)
//   lowvram   the UNet streamed block by block, the next block uploading while
//             the current one computes; text encoder and VAE as in medvram
// The model code is the same in every mode; the results are identical.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "model/weight_store.h"

namespace sd {

enum class MemoryMode { Normal, MedVram, LowVram };
MemoryMode parse_memory_mode(const std::string& name);  // "normal" | "medvram" | "lowvram"
const char* memory_mode_name(MemoryMode mode);

// How a checkpoint tensor is used, from its name and shape.
WeightKind weight_kind_for(const std::string& name, const Shape& shape);
// Tensors that are not network weights (schedule buffers, position_ids).
bool is_network_weight(const std::string& name, DType dtype);

struct ResidencyOptions {
  MemoryMode mode = MemoryMode::Normal;
  // Cap on prepared weight bytes (0 = none). Exceeding it is an sd::Error
  // that names the block and the bytes it needs.
  size_t budget_bytes = 0;
  DType storage = DType::F16;
};

class WeightResidency {
 public:
  virtual ~WeightResidency() = default;
  virtual const DeviceWeight& get(const std::string& name) = 0;
  virtual const DeviceWeight* find(const std::string& name) = 0;
  // Makes every weight under `scope` resident; `next_scope` (may be empty) is
  // what will be entered next, so a streaming mode can start its upload.
  virtual void enter(const std::string& scope, const std::string& next_scope) {}
  virtual void leave(const std::string& scope) {}
  virtual size_t resident_bytes() const = 0;
  virtual size_t peak_resident_bytes() const = 0;
  virtual void reset_peak() {}
};

// Normal mode with no budget: prepares every network weight of `store` up
// front, consuming the store's host tensors one by one.
std::unique_ptr<WeightResidency> make_all_resident(Backend& backend, WeightStore&& store, DType storage);
// Any mode: keeps `store` on the host and prepares units on demand.
std::unique_ptr<WeightResidency> make_residency(Backend& backend, WeightStore&& store, const ResidencyOptions& options);

// Scoped access to weights: ws("in_layers.2.weight") inside scope "...input_blocks.1.0.".
class Weights {
 public:
  Weights(WeightResidency& residency, std::string prefix) : r_(&residency), prefix_(std::move(prefix)) {}
  const DeviceWeight& operator()(const std::string& rel) const { return r_->get(prefix_ + rel); }
  const DeviceWeight* optional(const std::string& rel) const { return r_->find(prefix_ + rel); }
  bool has(const std::string& rel) const { return optional(rel) != nullptr; }
  Weights sub(const std::string& rel) const { return Weights(*r_, prefix_ + rel); }
  const std::string& prefix() const { return prefix_; }
  WeightResidency& residency() const { return *r_; }

 private:
  WeightResidency* r_;
  std::string prefix_;
};

// RAII enter/leave of a scope.
class ScopeGuard {
 public:
  ScopeGuard(WeightResidency& r, std::string scope, const std::string& next = "") : r_(r), scope_(std::move(scope)) {
    r_.enter(scope_, next);
  }
  ~ScopeGuard() { r_.leave(scope_); }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  WeightResidency& r_;
  std::string scope_;
};

}  // namespace sd
