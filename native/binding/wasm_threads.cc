// threads.h for the WebAssembly module: the tasks run on the calling thread, in order. (Every kernel fixes
// its split and the order of its sums independently of the threads that run the tasks, so the results are
// those of the threaded native build.)
#include "../kernels/threads.h"

namespace nabla {

int ThreadCount() { return 1; }
void StartThreads(int) {}
void RunTasks(int tasks, const std::function<void(int)>& fn) {
  for (int t = 0; t < tasks; t++) fn(t);
}

}  // namespace nabla

// The kernels keep scratch buffers in thread_local vectors, whose destructors the C++ runtime registers
// here; wasi-libc has no thread exit. The module's memory lives as long as its instance, so a registration
// is accepted and never run.
extern "C" int __cxa_thread_atexit(void (*)(void*), void*, void*) { return 0; }
