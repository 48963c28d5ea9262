#include "addon/job.h"

#include <algorithm>

#include "core/error.h"

namespace sd_addon {

Job::Job(Napi::Env env, Work work, Finish finish, Napi::Value on_progress, std::function<void()> done)
    : Napi::AsyncProgressQueueWorker<JobProgress>(env),
      deferred_(Napi::Promise::Deferred::New(env)),
      work_(std::move(work)),
      finish_(std::move(finish)),
      done_(std::move(done)) {
  if (on_progress.IsFunction()) on_progress_ = Napi::Persistent(on_progress.As<Napi::Function>());
}

Napi::Promise Job::start(Napi::Env env, Work work, Finish finish, Napi::Value on_progress, std::function<void()> done) {
  auto* job = new Job(env, std::move(work), std::move(finish), on_progress, std::move(done));
  Napi::Promise promise = job->deferred_.Promise();
  job->Queue();  // the worker deletes itself after OnOK / OnError
  return promise;
}

void Job::Execute(const ExecutionProgress& progress) {
  try {
    work_([&](const JobProgress& p) { progress.Send(&p, 1); });
  } catch (const sd::Cancelled&) {
    cancelled_ = true;
    SetError("cancelled");
  } catch (const std::bad_alloc&) {
    SetError("out of memory: try a smaller image or batch, or a lower-memory mode (--medvram / --lowvram)");
  } catch (const std::exception& e) {
    SetError(e.what());
  }
}

void Job::OnProgress(const JobProgress* data, size_t count) {
  if (on_progress_.IsEmpty() || count == 0) return;
  const JobProgress& p = data[count - 1];  // only the newest matters
  Napi::Env env = Env();
  Napi::Value payload = env.Undefined();
  if (p.data) {
    Napi::Object o = Napi::Object::New(env);
    Napi::Float32Array a = Napi::Float32Array::New(env, p.data->size());
    std::copy(p.data->begin(), p.data->end(), a.Data());
    Napi::Array shape = Napi::Array::New(env, p.shape.size());
    for (size_t i = 0; i < p.shape.size(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(p.shape[i]));
    o.Set("data", a);
    o.Set("shape", shape);
    payload = o;
  }
  on_progress_.Call({Napi::String::New(env, p.phase), Napi::Number::New(env, p.done), Napi::Number::New(env, p.total), payload});
}

void Job::OnOK() {
  Napi::Env env = Env();
  if (done_) done_();
  try {
    deferred_.Resolve(finish_ ? finish_(env) : env.Undefined());
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  } catch (const std::exception& e) {
    deferred_.Reject(Napi::Error::New(env, e.what()).Value());
  }
}

void Job::OnError(const Napi::Error& e) {
  if (done_) done_();
  if (cancelled_) {
    Napi::Error abort = Napi::Error::New(Env(), "the operation was cancelled");
    abort.Set("name", Napi::String::New(Env(), "AbortError"));
    abort.Set("code", Napi::String::New(Env(), "ABORT_ERR"));
    deferred_.Reject(abort.Value());
    return;
  }
  deferred_.Reject(e.Value());
}

}  // namespace sd_addon
