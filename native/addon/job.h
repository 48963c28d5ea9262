// A unit of engine work run off the JS thread: a Promise, progress reported
// through a callback on the JS thread, and cancellation that surfaces as an
// AbortError. Every binding that does heavy work goes through this.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sd_addon {

struct JobProgress {
  std::string phase;
  double done = 0;
  double total = 0;
  // Optional float payload (a sampler's current prediction, for previews).
  std::shared_ptr<std::vector<float>> data;
  std::vector<int64_t> shape;
};

class Job : public Napi::AsyncProgressQueueWorker<JobProgress> {
 public:
  using Report = std::function<void(const JobProgress&)>;
  using Work = std::function<void(const Report& report)>;
  using Finish = std::function<Napi::Value(Napi::Env)>;

  // `on_progress` may be empty. `done` runs on the JS thread after success or failure.
  static Napi::Promise start(Napi::Env env, Work work, Finish finish, Napi::Value on_progress,
                             std::function<void()> done = {});

  void Execute(const ExecutionProgress& progress) override;
  void OnProgress(const JobProgress* data, size_t count) override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Job(Napi::Env env, Work work, Finish finish, Napi::Value on_progress, std::function<void()> done);

  Napi::Promise::Deferred deferred_;
  Work work_;
  Finish finish_;
  Napi::FunctionReference on_progress_;
  std::function<void()> done_;
  bool cancelled_ = false;
};

}  // namespace sd_addon
