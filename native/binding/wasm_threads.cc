// threads.h for the WebAssembly modules.
//
// wasm/nabla.wasm (no atomics): the tasks run on the calling thread, in order.
//
// wasm/nabla-threads.wasm (built with -matomics -mbulk-memory, memory shared and imported): a pool of
// workers, each a Web Worker (worker_threads in Node) with its own instance of the module on the same
// memory. The JS side (src/backend/wasm/threads.ts) gives each worker a stack and calls nb_worker, which
// sets up the worker's thread-locals and never returns: it waits for a generation of tasks, takes tasks
// until none is left, and waits again. The caller takes tasks too and then spins (a browser's main thread
// may not block) until the workers inside the generation are done, as native/kernels/threads.cc does.
//
// Kernels split their work by ThreadCount() and fix the order of their sums for that split, whoever runs
// the tasks (weight gradients add one partial sum per share: their bits depend on the thread count, never
// on scheduling). ThreadCount() is the count the JS side asked for, not the workers that have started:
// until they have, the caller runs their tasks too, and the bits are already those of that count.
#include <atomic>
#include <cstddef>
#include <cstdlib>

#include "../kernels/conv.h"
#include "../kernels/threads.h"

#define WASM_EXPORT(name) extern "C" __attribute__((export_name(#name)))

#ifndef __wasm_atomics__

namespace nabla {

int ThreadCount() { return 1; }
void StartThreads(int) {}
void RunTasks(int tasks, const std::function<void(int)>& fn) {
  for (int t = 0; t < tasks; t++) fn(t);
}

}  // namespace nabla

#else

namespace nabla {
namespace {

struct Pool {
  std::atomic<int> gen{0};     // one more per generation of tasks; idle workers wait on it
  std::atomic<int> next{0};    // the next task to take
  std::atomic<int> active{0};  // workers inside a generation
  std::atomic<int> open{0};    // 1 while the current generation's tasks may be taken
  std::atomic<int> workers{0};  // workers that have started
  int threads = 1;              // ThreadCount(): set once, before the first worker starts
  std::atomic<int> driving{0};  // 1 while a caller's tasks are in flight
  std::atomic<int> failed{0};   // 1 once a worker trapped: its tasks are lost, the module is unusable
  std::atomic<int> trapNext{0};  // tests: the next generation's tasks go to the workers, the first traps
  const std::function<void(int)>* fn = nullptr;
  int tasks = 0;
};
Pool pool;
// On a worker: whether it is counted in `active` (read by nb_worker_failed after a trap)
thread_local bool inGeneration = false;

// How many times an idle worker reads the generation before it sleeps (about 50 µs: waking a sleeping
// worker costs tens of microseconds, and kernels come in quick succession).
constexpr int kSpin = 1 << 15;

void Work() {
  for (int t; (t = pool.next.fetch_add(1)) < pool.tasks;) (*pool.fn)(t);
}

int* GenWord() { return reinterpret_cast<int*>(&pool.gen); }

}  // namespace

int ThreadCount() { return pool.threads; }
void StartThreads(int) {}  // the JS side starts the workers

void RunTasks(int tasks, const std::function<void(int)>& fn) {
  // one caller's tasks at a time; a kernel started from inside a task runs its tasks on its own thread
  const int workers = pool.workers.load();
  if (workers == 0 || tasks <= 1 || pool.driving.exchange(1) != 0) {
    for (int t = 0; t < tasks; t++) fn(t);
    return;
  }
  pool.fn = &fn;
  pool.tasks = tasks;
  pool.next.store(0);
  pool.open.store(1);
  pool.gen.fetch_add(1);
  __builtin_wasm_memory_atomic_notify(GenWord(), (unsigned)workers);
  if (pool.trapNext.load() == 0) Work();
  else
    while (pool.failed.load() == 0 && pool.next.load() < tasks) {
    }
  // a worker announces itself in `active` before it looks at `open`: once `open` is closed, a worker that
  // is not counted in `active` will touch nothing of this generation
  pool.open.store(0);
  while (pool.active.load() > 0) {
  }
  pool.driving.store(0);
  // a worker trapped (its JS called nb_worker_failed): some tasks did not run, so this call traps too and
  // the JS side refuses the module from now on, rather than return a partial result or wait forever
  if (pool.failed.load() != 0) __builtin_trap();
}

}  // namespace nabla

extern "C" void __wasm_init_tls(void*);

// A worker's loop, on its own instance with its __stack_pointer set by the caller; never returns.
WASM_EXPORT(nb_worker) void nb_worker() {
  using nabla::pool;
  const size_t align = __builtin_wasm_tls_align() < 16 ? 16 : __builtin_wasm_tls_align();
  void* tls = aligned_alloc(align, (__builtin_wasm_tls_size() + align - 1) / align * align);
  if (tls == nullptr) return;
  __wasm_init_tls(tls);
  int seen = pool.gen.load();
  pool.workers.fetch_add(1);
  for (;;) {
    for (int spin = 0; spin < nabla::kSpin && pool.gen.load(std::memory_order_acquire) == seen; spin++) {
    }
    while (pool.gen.load() == seen) __builtin_wasm_memory_atomic_wait32(nabla::GenWord(), seen, -1);
    seen = pool.gen.load();
    pool.active.fetch_add(1);
    nabla::inGeneration = true;
    if (pool.open.load() && pool.gen.load() == seen) {
      if (pool.trapNext.exchange(0) != 0) __builtin_trap();
      nabla::Work();
    }
    nabla::inGeneration = false;
    pool.active.fetch_sub(1);
  }
}

// Called by a worker's JS when nb_worker trapped (a failed allocation aborts, for one): the worker leaves
// the generation it was in and marks the pool failed, so that the caller stops waiting and traps.
WASM_EXPORT(nb_worker_failed) void nb_worker_failed() {
  using nabla::pool;
  if (nabla::inGeneration) {
    nabla::inGeneration = false;
    pool.active.fetch_sub(1);
  }
  pool.failed.store(1);
}

// For tests: the next call that splits its work hands every task to the workers, and the first traps.
WASM_EXPORT(nb_test_trap_in_worker) void nb_test_trap_in_worker() { nabla::pool.trapNext.store(1); }

// Called once on the main instance, before the first worker starts, with the pool's size (the caller
// included). It also initializes the function-local statics that kernels read inside tasks (wasi's
// libc++abi has no locks for them).
WASM_EXPORT(nb_threads_prepare) void nb_threads_prepare(int threads) {
  nabla::DirectEnabled();
  nabla::WinogradEnabled();
  nabla::pool.threads = threads < 1 ? 1 : threads;
}
// Workers that have entered the pool.
WASM_EXPORT(nb_workers_started) int nb_workers_started() { return nabla::pool.workers.load(); }

// wasi-libc's malloc (dlmalloc) is built without locks: the linker sends every call through these
// (--wrap), which hold one spin lock around it. Kernels allocate rarely (their scratch is thread_local and
// kept), so the lock is seldom contended.
namespace {
std::atomic<int> heapLock{0};
struct HeapGuard {
  HeapGuard() {
    while (heapLock.exchange(1, std::memory_order_acquire) != 0) {
    }
  }
  ~HeapGuard() { heapLock.store(0, std::memory_order_release); }
};
}  // namespace

extern "C" {
void* __real_malloc(size_t);
void __real_free(void*);
void* __real_calloc(size_t, size_t);
void* __real_realloc(void*, size_t);
void* __real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void**, size_t, size_t);
void* __wrap_malloc(size_t n) {
  HeapGuard g;
  return __real_malloc(n);
}
void __wrap_free(void* p) {
  HeapGuard g;
  __real_free(p);
}
void* __wrap_calloc(size_t n, size_t size) {
  HeapGuard g;
  return __real_calloc(n, size);
}
void* __wrap_realloc(void* p, size_t n) {
  HeapGuard g;
  return __real_realloc(p, n);
}
void* __wrap_aligned_alloc(size_t align, size_t n) {
  HeapGuard g;
  return __real_aligned_alloc(align, n);
}
int __wrap_posix_memalign(void** out, size_t align, size_t n) {
  HeapGuard g;
  return __real_posix_memalign(out, align, n);
}
}

#endif

// The kernels keep scratch buffers in thread_local vectors, whose destructors the C++ runtime registers
// here; wasi-libc has no thread exit. The module's memory lives as long as its instances, so a registration
// is accepted and never run.
extern "C" int __cxa_thread_atexit(void (*)(void*), void*, void*) { return 0; }
