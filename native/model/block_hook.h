// Installs a network's between-blocks callback (cancellation checks, progress)
// for one scope, and removes it however the scope ends.
#pragma once

#include <functional>
#include <utility>

namespace sd {

class BlockHook {
 public:
  BlockHook(std::function<void()>& slot, std::function<void()> hook) : slot_(slot) { slot_ = std::move(hook); }
  ~BlockHook() { slot_ = nullptr; }
  BlockHook(const BlockHook&) = delete;
  BlockHook& operator=(const BlockHook&) = delete;

 private:
  std::function<void()>& slot_;
};

}  // namespace sd
