// The std::thread pool behind threads.h (the only file of the kernels that creates threads).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "threads.h"

namespace nabla {

// Workers spin briefly on a generation counter, then sleep on a condition variable: spinning alone
// slowed large GEMMs on shared VMs, sleeping alone costs tens of microseconds per dispatch.
//
// The caller takes tasks too and, once none is left, waits only for the workers that are inside the
// current generation (`active_`), never for one that has not woken up yet: on shared VMs a sleeping
// worker can take milliseconds to wake, and waiting for its check-in would make a short kernel that slow
// now and then. A worker announces itself in `active_`
// before it looks at `open_`, and the caller closes `open_` before it reads `active_` (both sequentially
// consistent), so a late worker either is waited for or sees the generation closed and touches nothing.
static int SpinMicros() {
  static const int us = [] { const char* e = getenv("NABLA_SPIN_US"); return e ? atoi(e) : 50; }();
  return us;
}

class ThreadPool {
 public:
  explicit ThreadPool(int n) : n_(std::max(1, n)) {
    for (int i = 1; i < n_; i++) workers_.emplace_back([this, i] { Loop(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> g(m_);
      stop_ = true;
      gen_++;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return n_; }
  // Run fn(task) for task in [0, tasks), spread over the pool; the caller takes part.
  void Run(int tasks, const std::function<void(int)>& fn) {
    if (n_ == 1 || tasks <= 1) {
      for (int t = 0; t < tasks; t++) fn(t);
      return;
    }
    {
      std::lock_guard<std::mutex> g(m_);
      fn_ = &fn;
      tasks_ = tasks;
      next_.store(0);
      open_.store(true);
      gen_++;
    }
    cv_.notify_all();
    Work();
    open_.store(false);
    while (active_.load() > 0) std::this_thread::yield();
  }

 private:
  void Work() {
    for (int t; (t = next_.fetch_add(1)) < tasks_;) (*fn_)(t);
  }
  void Loop(int) {
    uint64_t seen = 0;
    for (;;) {
      bool ready = false;
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(SpinMicros());
      for (int spin = 0; !ready; spin++) {
        ready = gen_.load(std::memory_order_acquire) != seen;
        if ((spin & 255) == 255 && std::chrono::steady_clock::now() > until) break;
      }
      if (!ready) {
        std::unique_lock<std::mutex> l(m_);
        cv_.wait(l, [&] { return gen_.load() != seen; });
      }
      seen = gen_.load();
      if (stop_) return;
      active_.fetch_add(1);
      if (open_.load() && gen_.load() == seen) Work();
      active_.fetch_sub(1);
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};
  std::atomic<int> next_{0}, active_{0};
  std::atomic<bool> open_{false};
  const std::function<void(int)>* fn_ = nullptr;
  int tasks_ = 0;
  bool stop_ = false;
};

static ThreadPool* pool = nullptr;
static std::once_flag started;
// The pool runs one caller's tasks at a time: a kernel called from a second JS thread (worker_threads)
// while another's tasks are in flight, or a kernel started from inside a task, runs its tasks on its own
// thread instead of waiting for the pool. Results do not depend on which: every kernel fixes its split and
// the order of its sums independently of the threads that run the tasks.
static std::mutex driving;

int ThreadCount() { return pool ? pool->size() : 1; }

void StartThreads(int n) {
  std::call_once(started, [n] { pool = new ThreadPool(std::max(1, n)); });
}

void RunTasks(int tasks, const std::function<void(int)>& fn) {
  if (pool && tasks > 1) {
    std::unique_lock<std::mutex> lock(driving, std::try_to_lock);
    if (lock.owns_lock()) {
      pool->Run(tasks, fn);
      return;
    }
  }
  for (int t = 0; t < tasks; t++) fn(t);
}

}  // namespace nabla
