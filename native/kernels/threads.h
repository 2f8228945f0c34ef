// The small interface through which kernels use threads: a task runner and a parallel loop over ranges.
// Kernels never create threads themselves; threads.cc implements the runner with a std::thread pool (a
// WebAssembly build can implement it with workers, or run the tasks on one thread).
#pragma once

#include <cstdint>
#include <functional>

namespace nabla {

// Threads of the pool (1 until StartThreads is called).
int ThreadCount();
// Start the pool with `n` threads, the caller included (n < 1 counts as 1); later calls do nothing.
void StartThreads(int n);
// fn(task) for task in [0, tasks), spread over the pool, the calling thread taking part; when the pool is
// busy with another caller's tasks, all on the calling thread. Safe to call from any number of threads.
void RunTasks(int tasks, const std::function<void(int)>& fn);

// fn(lo, hi) over [0, count) in contiguous ranges: on this thread when the work (count·cost) is small,
// otherwise in at most 4 ranges per thread (one task per row would pay an atomic per row).
template <typename F>
void ParallelFor(int64_t count, double cost, F fn) {
  const int threads = ThreadCount();
  if (threads == 1 || count < 2 || (double)count * cost < 32768) {
    if (count > 0) fn((int64_t)0, count);
    return;
  }
  int64_t tasks = count < 4 * threads ? count : 4 * threads, per = (count + tasks - 1) / tasks;
  tasks = (count + per - 1) / per;
  RunTasks((int)tasks, [&](int t) { fn(t * per, count < (t + 1) * per ? count : (t + 1) * per); });
}

}  // namespace nabla
