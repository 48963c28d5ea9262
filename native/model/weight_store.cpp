#include "model/weight_store.h"

#include <algorithm>

#include "core/thread_pool.h"

namespace sd {

WeightStore WeightStore::load(const Checkpoint& ckpt, DType storage, const std::vector<std::string>& prefixes,
                              const std::function<void(const LoadProgress&)>& progress) {
  SD_CHECK(storage == DType::F32 || storage == DType::F16 || storage == DType::BF16,
           "weights can be stored as F32, F16 or BF16, not ", dtype_name(storage));
  WeightStore store;
  store.storage_ = storage;
  std::vector<const StoredTensor*> wanted;
  for (const auto& t : ckpt.tensors()) {
    const bool match = prefixes.empty() || std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
                         return t.name.compare(0, p.size(), p) == 0;
                       });
    if (match) wanted.push_back(&t);
  }
  LoadProgress p;
  p.tensors_total = wanted.size();
  // Tensors are read and converted a few per thread at a time (the readers
  // are safe for concurrent reads; each thread's pages are its own); the
  // store and the progress callback are touched by the calling thread only.
  ThreadPool& pool = compute_pool();
  const size_t batch = static_cast<size_t>(4 * pool.size());
  std::vector<Tensor> converted;
  for (size_t b0 = 0; b0 < wanted.size(); b0 += batch) {
    const size_t n = std::min(batch, wanted.size() - b0);
    converted.assign(n, Tensor());
    pool.run(static_cast<int64_t>(n), [&](int64_t i) {
      converted[static_cast<size_t>(i)] = ckpt.read(*wanted[b0 + static_cast<size_t>(i)], storage);
    });
    for (size_t i = 0; i < n; ++i) {
      p.bytes_done += converted[i].nbytes();
      store.put(wanted[b0 + i]->name, std::move(converted[i]));
      ++p.tensors_done;
      if (progress) progress(p);
    }
  }
  return store;
}

const Tensor* WeightStore::find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const Tensor& WeightStore::get(const std::string& name) const {
  const Tensor* t = find(name);
  SD_CHECK(t != nullptr, "the checkpoint has no weight \"", name, "\"; is it an SD 1.x model?");
  return *t;
}

void WeightStore::put(const std::string& name, Tensor t) {
  const auto it = tensors_.find(name);
  if (it != tensors_.end()) bytes_ -= it->second.nbytes();
  bytes_ += t.nbytes();
  tensors_[name] = std::move(t);
}

std::vector<std::string> WeightStore::names_with_prefix(const std::string& prefix) const {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors_)
    if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sd
