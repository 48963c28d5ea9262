#include "model/residency.h"

#include <algorithm>
#include <mutex>

#include "core/thread_pool.h"
#include "model/config.h"

namespace sd {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string mib(size_t bytes) { return concat(bytes / (1024 * 1024), " MiB"); }

class AllResident final : public WeightResidency {
 public:
  AllResident(Backend& backend, WeightStore&& store, DType storage) {
    std::vector<std::string> names;
    for (const std::string& name : store.names_with_prefix(""))
      if (is_network_weight(name, store.get(name).dtype())) names.push_back(name);
    std::vector<DeviceWeight> prepared(names.size());
    std::mutex store_mutex;
    const auto prepare = [&](int64_t i) {
      const std::string& name = names[static_cast<size_t>(i)];
      Tensor host;
      {
        std::lock_guard<std::mutex> lock(store_mutex);
        host = store.get(name);
      }
      prepared[static_cast<size_t>(i)] = backend.prepare_weight(name, host, weight_kind_for(name, host.shape()), storage);
      host = Tensor();
      std::lock_guard<std::mutex> lock(store_mutex);
      store.put(name, Tensor());  // drop the host copy now, not at the end
    };
    // Packing for the CPU takes one weight per thread: loading SD 1.5 here went
    // from 8.5-10.4 s to 5.2-5.3 s, for 105 MiB more at the load's peak (still
    // below a generation's). A GPU backend uploads on its one stream, in order.
    if (backend.device() == Device::CPU)
      compute_pool().run(static_cast<int64_t>(names.size()), prepare);
    else
      for (size_t i = 0; i < names.size(); ++i) prepare(static_cast<int64_t>(i));
    for (size_t i = 0; i < names.size(); ++i) {
      bytes_ += prepared[i].bytes();
      weights_.emplace(names[i], std::move(prepared[i]));
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

// Weights grouped into units (a scope key -> the names it owns); a unit is
// prepared and dropped as a whole.
class StreamingResidency final : public WeightResidency {
 public:
  StreamingResidency(Backend& backend, WeightStore&& store, const ResidencyOptions& options)
      : backend_(backend), store_(std::move(store)), options_(options) {
    std::vector<std::string> unit_keys;
    if (options_.mode != MemoryMode::Normal) unit_keys = {kCLIPPrefix, kUNetPrefix, kVAEPrefix};
    if (options_.mode == MemoryMode::LowVram) {
      // The UNet's blocks become units of their own; what is left directly
      // under the UNet (time_embed) stays in the UNet-wide unit.
      for (const std::string& name : store_.names_with_prefix(kUNetPrefix)) {
        const std::string rest = name.substr(std::string(kUNetPrefix).size());
        std::string key;
        for (const char* block : {"input_blocks.", "output_blocks."}) {
          if (starts_with(rest, block)) {
            const size_t dot = rest.find('.', std::string(block).size());
            key = std::string(kUNetPrefix) + rest.substr(0, dot + 1);
          }
        }
        for (const char* block : {"middle_block.", "out."})
          if (starts_with(rest, block)) key = std::string(kUNetPrefix) + block;
        if (!key.empty() && std::find(unit_keys.begin(), unit_keys.end(), key) == unit_keys.end()) unit_keys.push_back(key);
      }
    }
    for (const std::string& name : store_.names_with_prefix("")) {
      const Tensor& host = store_.get(name);
      if (!is_network_weight(name, host.dtype())) continue;
      // The longest unit key owns the name.
      const std::string* owner = nullptr;
      for (const std::string& key : unit_keys)
        if (starts_with(name, key) && (!owner || key.size() > owner->size())) owner = &key;
      if (owner) {
        Unit& u = units_[*owner];
        u.names.push_back(name);
        u.bytes += backend_.prepared_bytes(host.shape(), weight_kind_for(name, host.shape()), options_.storage);
      } else {
        always_.push_back(name);
      }
    }
    for (const char* key : {kCLIPPrefix, kUNetPrefix, kVAEPrefix}) {
      const auto it = units_.find(key);
      if (it != units_.end()) it->second.whole_model = true;
    }
    for (const std::string& name : always_) make_resident(name);
  }

  const DeviceWeight& get(const std::string& name) override {
    const DeviceWeight* w = find(name);
    if (w) return *w;
    SD_CHECK(!store_.has(name), "internal: weight \"", name, "\" was used outside its scope (", memory_mode_name(options_.mode),
             " mode)");
    fail("the checkpoint has no weight \"", name, "\"; is it an SD 1.x model?");
  }

  const DeviceWeight* find(const std::string& name) override {
    const auto it = resident_.find(name);
    return it == resident_.end() ? nullptr : &it->second;
  }

  void enter(const std::string& scope, const std::string& next_scope) override {
    const auto it = units_.find(scope);
    if (it == units_.end()) return;
    Unit& u = it->second;
    if (u.whole_model) {
      // One model at a time (the webui's medvram): entering the text encoder,
      // UNet or VAE sends the others away; a model stays until another needs room.
      for (auto& [key, other] : units_)
        if (&other != &u && other.resident && other.active == 0) unload(other);
    }
    if (!u.resident) load(scope, u, /*prefetch=*/false);
    if (u.pending) {
      backend_.wait_weight_group(u.ticket);
      u.pending = false;
    }
    ++u.active;
    if (!next_scope.empty()) {
      const auto next = units_.find(next_scope);
      if (next != units_.end() && !next->second.resident) {
        const size_t need = next->second.bytes;
        if (options_.budget_bytes == 0 || bytes_ + need <= options_.budget_bytes) {
          // A prefetch is an optimisation: if the device is full it waits for its turn instead.
          try {
            load(next_scope, next->second, true);
          } catch (const Error&) {
            unload(next->second);
          }
        }
      }
    }
  }

  void leave(const std::string& scope) override {
    const auto it = units_.find(scope);
    if (it == units_.end()) return;
    Unit& u = it->second;
    // Streamed UNet blocks go at once; whole models wait until another model is entered.
    if (u.active > 0 && --u.active == 0 && !u.whole_model) unload(u);
  }

  size_t resident_bytes() const override { return bytes_; }
  size_t peak_resident_bytes() const override { return peak_; }
  void reset_peak() override { peak_ = bytes_; }

 private:
  struct Unit {
    std::vector<std::string> names;
    size_t bytes = 0;  // once prepared
    bool whole_model = false;  // text encoder, UNet (or its loose weights in lowvram), VAE
    bool resident = false;
    bool pending = false;
    uint64_t ticket = 0;
    int active = 0;
  };

  void make_resident(const std::string& name) {
    const Tensor& host = store_.get(name);
    DeviceWeight w = backend_.prepare_weight(name, host, weight_kind_for(name, host.shape()), options_.storage);
    bytes_ += w.bytes();
    peak_ = std::max(peak_, bytes_);
    resident_.emplace(name, std::move(w));
  }

  // Frees inactive, resident units (prefetched ones too) until `need` more bytes fit the budget.
  void make_room(size_t need, const std::string& for_scope) {
    if (options_.budget_bytes == 0 || bytes_ + need <= options_.budget_bytes) return;
    for (auto& [key, u] : units_) {
      if (bytes_ + need <= options_.budget_bytes) break;
      if (u.resident && u.active == 0 && key != for_scope) unload(u);
    }
    SD_CHECK(bytes_ + need <= options_.budget_bytes, "the VRAM budget of ", mib(options_.budget_bytes), " is too small: ",
             for_scope, " needs ", mib(need), " with ", mib(bytes_), " already in use; raise --vram-budget or use ",
             options_.mode == MemoryMode::LowVram ? "a smaller image" : "--lowvram");
  }

  void load(const std::string& key, Unit& u, bool prefetch) {
    make_room(u.bytes, key);
    const uint64_t ticket = backend_.begin_weight_group();
    try {
      for (const std::string& name : u.names) make_resident(name);
    } catch (...) {
      backend_.end_weight_group(ticket);
      throw;
    }
    backend_.end_weight_group(ticket);
    u.resident = true;
    u.pending = prefetch;
    u.ticket = ticket;
    if (!prefetch) backend_.wait_weight_group(ticket);
  }

  void unload(Unit& u) {
    // A prefetch still copying must finish before its memory can serve anything else.
    if (u.pending) backend_.wait_weight_group(u.ticket);
    for (const std::string& name : u.names) {
      const auto it = resident_.find(name);
      if (it == resident_.end()) continue;
      bytes_ -= it->second.bytes();
      resident_.erase(it);
    }
    u.resident = false;
    u.pending = false;
  }

  Backend& backend_;
  WeightStore store_;
  ResidencyOptions options_;
  std::map<std::string, Unit> units_;
  std::vector<std::string> always_;
  std::unordered_map<std::string, DeviceWeight> resident_;
  size_t bytes_ = 0;
  size_t peak_ = 0;
};

}  // namespace

MemoryMode parse_memory_mode(const std::string& name) {
  if (name == "normal" || name.empty()) return MemoryMode::Normal;
  if (name == "medvram") return MemoryMode::MedVram;
  if (name == "lowvram") return MemoryMode::LowVram;
  fail("unknown memory mode \"", name, "\" (use normal, medvram or lowvram)");
}

const char* memory_mode_name(MemoryMode mode) {
  switch (mode) {
    case MemoryMode::Normal: return "normal";
    case MemoryMode::MedVram: return "medvram";
    case MemoryMode::LowVram: return "lowvram";
  }
  return "?";
}

WeightKind weight_kind_for(const std::string& name, const Shape& shape) {
  if (shape.size() == 4) return WeightKind::Conv;
  if (shape.size() == 2) return ends_with(name, "embedding.weight") ? WeightKind::Table : WeightKind::Matrix;
  return WeightKind::Vector;
}

bool is_network_weight(const std::string& name, DType dtype) {
  if (!is_float(dtype)) return false;  // position_ids
  return starts_with(name, kUNetPrefix) || starts_with(name, kVAEPrefix) || starts_with(name, "cond_stage_model.");
}

std::unique_ptr<WeightResidency> make_all_resident(Backend& backend, WeightStore&& store, DType storage) {
  return std::make_unique<AllResident>(backend, std::move(store), storage);
}

std::unique_ptr<WeightResidency> make_residency(Backend& backend, WeightStore&& store, const ResidencyOptions& options) {
  if (options.mode == MemoryMode::Normal && options.budget_bytes == 0)
    return make_all_resident(backend, std::move(store), options.storage);
  return std::make_unique<StreamingResidency>(backend, std::move(store), options);
}

}  // namespace sd
