// One pool of compute threads for the whole engine: every parallel kernel runs
// on it, so there is never more than one thread per core (no oversubscription
// between GEMM, attention and norms). Nested calls run inline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sd {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, tasks), spread over the pool; tasks are
  // taken in order as threads free up. Rethrows the first exception.
  void run(int64_t tasks, const std::function<void(int64_t)>& fn);

  // Splits [0, n) into at most size() contiguous ranges of at least `grain`.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn, int64_t grain = 1);

 private:
  void worker_loop();
  void work_on_current_job();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;

  // The job in flight.
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t job_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> busy_workers_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

// The engine's pool. Created on first use with default_thread_count() threads.
ThreadPool& compute_pool();
// Physical cores where we can tell, else hardware_concurrency(). SD_THREADS overrides.
int default_thread_count();
// Replaces the pool (e.g. --threads N); not while work is running.
void set_compute_threads(int threads);

}  // namespace sd
