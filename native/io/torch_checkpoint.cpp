#include "io/torch_checkpoint.h"

#include <cstring>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>

#include "io/pickle_reader.h"

namespace sd {

using pickle::GlobalKind;
using pickle::Kind;
using pickle::Value;

// Turns the pickle's value tree into StoredTensors, checking every storage
// reference against the zip entries before anything is read.
class TorchCheckpointBuilder {
 public:
  TorchCheckpointBuilder(TorchCheckpoint& ckpt, const std::string& prefix) : c_(ckpt), prefix_(prefix) {}

  void build(const Value* root) {
    if (root->kind != Kind::Dict)
      bad("the checkpoint holds a ", root->kind_name(), ", not a dictionary of tensors (is it a whole pickled model?)");
    // Lightning / CompVis checkpoints nest the weights under "state_dict";
    // plain torch.save(model.state_dict()) files are the dict itself.
    const Value* state = root->get("state_dict");
    if (state != nullptr && state->kind == Kind::Dict) {
      for (const auto& [k, v] : root->entries) record_scalar(k, v);
      add_dict(state, "", 0);
    } else {
      add_dict(root, "", 0);
    }
    if (c_.tensors_.empty()) bad("it contains no tensors");
  }

 private:
  TorchCheckpoint& c_;
  const std::string& prefix_;
  std::unordered_map<std::string, size_t> storage_by_key_;
  std::unordered_map<std::string, size_t> tensor_by_name_;
  std::set<const Value*> dicts_seen_;

  template <typename... Parts>
  [[noreturn]] void bad(Parts&&... parts) const {
    fail(c_.path_, " is not a usable PyTorch checkpoint: ", std::forward<Parts>(parts)...);
  }

  void record_scalar(const Value* key, const Value* v) {
    if (key->kind != Kind::String) return;
    std::ostringstream s;
    switch (v->kind) {
      case Kind::Int: s << v->integer; break;
      case Kind::Float: s << v->real; break;
      case Kind::Bool: s << (v->boolean ? "true" : "false"); break;
      case Kind::String: s << v->text; break;
      default: return;
    }
    c_.metadata_[key->text] = s.str();
  }

  // Tensors anywhere in nested dicts, named "outer.inner" (e.g. a textual
  // inversion file's {"string_to_param": {"*": tensor}}).
  void add_dict(const Value* dict, const std::string& prefix, int depth) {
    if (depth > 8) bad("dictionaries are nested more than 8 deep");
    if (!dicts_seen_.insert(dict).second) bad("the same dictionary appears twice in the state dict");
    for (const auto& [k, v] : dict->entries) {
      if (k->kind != Kind::String) continue;
      const std::string name = prefix + k->text;
      if (v->kind == Kind::Dict) {
        add_dict(v, name + ".", depth + 1);
      } else if (const Value* t = as_tensor(v)) {
        add_tensor(name, t);
      }
    }
  }

  // The _rebuild_tensor_v2 call behind a value (parameters wrap one), or nullptr.
  static const Value* as_tensor(const Value* v) {
    if (v->kind != Kind::Call) return nullptr;
    if (v->callee->global == GlobalKind::RebuildTensorV2) return v;
    if (v->callee->global == GlobalKind::RebuildParameter && !v->args->items.empty()) {
      const Value* inner = v->args->items[0];
      if (inner->kind == Kind::Call && inner->callee->global == GlobalKind::RebuildTensorV2) return inner;
    }
    return nullptr;
  }

  static bool int_tuple(const Value* v, std::vector<int64_t>* out) {
    if (v->kind != Kind::Tuple && v->kind != Kind::List) return false;
    out->clear();
    for (const Value* x : v->items) {
      if (x->kind != Kind::Int || x->integer < 0) return false;
      out->push_back(x->integer);
    }
    return true;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  void add_tensor(const std::string& name, const Value* call) {
    const auto& a = call->args->items;
    if (a.size() < 4 || a.size() > 7) bad("tensor \"", name, "\" is rebuilt with ", a.size(), " arguments");
    StoredTensor t;
    t.name = name;
    t.storage_index = storage_index(name, a[0]);
    const TorchCheckpoint::Storage& storage = c_.storages_[t.storage_index];
    t.dtype = storage.dtype;
    if (a[1]->kind != Kind::Int || a[1]->integer < 0) bad("tensor \"", name, "\" has an invalid storage offset");
    t.storage_offset = a[1]->integer;
    if (!int_tuple(a[2], &t.shape) || t.shape.size() > 8) bad("tensor \"", name, "\" has an invalid shape");
    if (!int_tuple(a[3], &t.strides) || t.strides.size() != t.shape.size())
      bad("tensor \"", name, "\" has invalid strides");

    // Element count and the furthest element, both overflow-checked, so a
    // bogus shape cannot wrap around into bounds.
    constexpr uint64_t kLimit = uint64_t{1} << 62;
    uint64_t numel = 1, last = static_cast<uint64_t>(t.storage_offset);
    bool contiguous = true;
    uint64_t expected_stride = 1;
    for (size_t d = t.shape.size(); d-- > 0;) {
      const auto dim = static_cast<uint64_t>(t.shape[d]);
      const auto stride = static_cast<uint64_t>(t.strides[d]);
      if (dim > 0 && numel > kLimit / dim) bad("tensor \"", name, "\" has an absurd shape");
      numel *= dim;
      if (dim > 1) {
        if (stride > kLimit / (dim - 1)) bad("tensor \"", name, "\" has an absurd stride");
        last += (dim - 1) * stride;
        if (last > kLimit) bad("tensor \"", name, "\" has an absurd stride");
        if (stride != expected_stride) contiguous = false;
      }
      if (dim > 0 && expected_stride > kLimit / dim) bad("tensor \"", name, "\" has an absurd shape");
      expected_stride *= std::max<uint64_t>(dim, 1);
    }
    if (numel > 0 && last >= storage.numel)
      bad("tensor \"", name, "\" (shape ", shape_str(t.shape), ", offset ", t.storage_offset, ") reaches element ", last,
          " of a storage with ", storage.numel);
    if (contiguous) t.strides.clear();

    const auto it = tensor_by_name_.find(name);
    if (it != tensor_by_name_.end()) {
      c_.tensors_[it->second] = std::move(t);  // a repeated key: the last one wins, as in Python
    } else {
      tensor_by_name_.emplace(name, c_.tensors_.size());
      c_.tensors_.push_back(std::move(t));
    }
  }

  // ('storage', torch.XStorage, key, location, numel) -> index into storages_.
  size_t storage_index(const std::string& name, const Value* pid) {
    const Value* id = pid->kind == Kind::PersistentId ? pid->items[0] : nullptr;
    if (id == nullptr || id->kind != Kind::Tuple || id->items.size() != 5 || id->items[0]->kind != Kind::String ||
        id->items[0]->text != "storage")
      bad("tensor \"", name, "\" does not refer to a storage the way torch.save writes it");
    const Value* type = id->items[1];
    const Value* key = id->items[2];
    const Value* numel = id->items[4];
    if (type->kind != Kind::Global || type->global != GlobalKind::Storage)
      bad("tensor \"", name, "\" has storage type ", type->kind == Kind::Global ? type->text : type->kind_name());
    if (key->kind != Kind::String) bad("tensor \"", name, "\" has a storage key that is not a string");
    if (numel->kind != Kind::Int || numel->integer < 0) bad("tensor \"", name, "\" has an invalid storage size");

    const auto found = storage_by_key_.find(key->text);
    if (found != storage_by_key_.end()) {
      const TorchCheckpoint::Storage& s = c_.storages_[found->second];
      if (s.dtype != type->storage_dtype || s.numel != static_cast<uint64_t>(numel->integer))
        bad("storage ", key->text, " is described two different ways");
      return found->second;
    }
    const std::string entry_name = prefix_ + "data/" + key->text;
    const ZipEntry* entry = c_.zip_->find(entry_name);
    if (entry == nullptr) bad("tensor \"", name, "\" needs the missing entry ", entry_name);
    const size_t esize = dtype_size(type->storage_dtype);
    const auto count = static_cast<uint64_t>(numel->integer);
    if (count > std::numeric_limits<uint64_t>::max() / esize || count * esize != entry->size)
      bad("storage ", key->text, " holds ", entry->size, " bytes, but its header says ", count, " elements of ",
          dtype_name(type->storage_dtype));
    c_.storages_.push_back({entry, type->storage_dtype, count});
    storage_by_key_.emplace(key->text, c_.storages_.size() - 1);
    return c_.storages_.size() - 1;
  }
};

namespace {

// The one "<archive>/data.pkl" of the file; torch names the folder after the
// file's stem or "archive", so it is found by suffix.
const ZipEntry& find_pickle(const ZipReader& zip, const std::string& path) {
  const ZipEntry* found = nullptr;
  for (const auto& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || slash == 0 || e.name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (found != nullptr) fail(path, " holds more than one data.pkl (", found->name, ", ", e.name, "); it is not a single checkpoint");
    found = &e;
  }
  if (found == nullptr)
    fail(path, " is a zip archive without <folder>/data.pkl, so it is not a PyTorch checkpoint");
  return *found;
}

}  // namespace

TorchCheckpoint::TorchCheckpoint(const std::string& path) {
  path_ = path;
  file_ = std::make_shared<MappedFile>(path);
  zip_ = std::make_unique<ZipReader>(file_, path);
  const ZipEntry& pkl = find_pickle(*zip_, path);
  const std::string prefix = pkl.name.substr(0, pkl.name.size() - std::strlen("data.pkl"));

  if (const ZipEntry* order = zip_->find(prefix + "byteorder")) {
    const ZipData bytes = zip_->read(*order, 16, true);
    const std::string value(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (value != "little") fail(path, " was saved on a ", value, "-endian machine; only little-endian checkpoints are supported");
  }
  if (pkl.size > kMaxPickleBytes)
    fail(path, ": its data.pkl is ", pkl.size, " bytes, over the ", kMaxPickleBytes, "-byte limit (not a model checkpoint?)");
  {
    const ZipData pickle_bytes = zip_->read(pkl, kMaxPickleBytes, true);
    const pickle::Document doc = pickle::read_pickle(pickle_bytes.data(), pickle_bytes.size(), path);
    TorchCheckpointBuilder(*this, prefix).build(doc.root());
  }
  zip_->release(pkl);
  crc_checked_ = std::make_unique<std::atomic<bool>[]>(storages_.size());
  for (size_t i = 0; i < storages_.size(); ++i) crc_checked_[i] = false;
}

std::string TorchCheckpoint::metadata(const std::string& key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? std::string() : it->second;
}

Tensor TorchCheckpoint::read(const StoredTensor& t, DType dtype) const {
  SD_CHECK(t.storage_index < storages_.size(), "internal: tensor \"", t.name, "\" has no storage");
  const Storage& s = storages_[t.storage_index];
  const DType out_type = (is_float(t.dtype) && is_float(dtype)) ? dtype : t.dtype;
  Tensor out = Tensor::host(t.shape, out_type);
  const uint64_t bytes = s.entry->size;
  if (s.entry->stored()) {
    // Checked once per storage; concurrent first reads may both check, harmlessly.
    const bool verify = !crc_checked_[t.storage_index].load();
    const ZipData data = zip_->read(*s.entry, bytes, verify);
    crc_checked_[t.storage_index] = true;
    gather_stored_tensor(data.data(), data.size(), t.dtype, t, out);
    zip_->release(*s.entry);
    return out;
  }
  std::shared_ptr<const ZipData> data;
  {
    std::lock_guard<std::mutex> lock(inflated_mutex_);
    if (inflated_index_ == t.storage_index) data = inflated_;
    else inflated_.reset();  // never hold two inflated storages at once
  }
  if (!data) {
    data = std::make_shared<const ZipData>(zip_->read(*s.entry, bytes, true));
    zip_->release(*s.entry);
    std::lock_guard<std::mutex> lock(inflated_mutex_);
    inflated_index_ = t.storage_index;
    inflated_ = data;
  }
  gather_stored_tensor(data->data(), data->size(), t.dtype, t, out);
  return out;
}

std::unique_ptr<Checkpoint> open_pytorch_checkpoint(const std::string& path) {
  return std::make_unique<TorchCheckpoint>(path);
}

}  // namespace sd
