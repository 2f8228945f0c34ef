// The WebAssembly binding: the module's exports over the generic parser of calls.h. The JS side
// (src/backend/wasm) copies each array argument into this module's memory and writes one WasmArg per
// argument; nb_call checks them exactly as the Node addon does and runs the kernel, and the caller copies
// back the arrays the kernel writes (marked `!` in kernel_list.h).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "calls.h"

#define WASM_EXPORT(name) extern "C" __attribute__((export_name(#name)))

namespace nabla {
namespace {

// One argument as the caller wrote it (24 bytes, 8-aligned).
struct WasmArg {
  int32_t tag;      // 0 null or undefined, 1 typed array, 2 number, 3 boolean, 4 anything else
  int32_t type;     // a typed array's ArrType
  uint32_t data;    // a typed array's copy in this memory
  uint32_t length;  // a typed array's element count
  double value;     // a number, or a boolean as 0 / 1
};
static_assert(sizeof(WasmArg) == 24, "the JS side writes 24-byte records");

struct WasmSource {
  const WasmArg* args;
  bool IsNull(size_t i) const { return args[i].tag == 0; }
  bool GetArr(size_t i, Arr* out) const {
    if (args[i].tag != 1) return false;
    out->data = reinterpret_cast<void*>((uintptr_t)args[i].data);
    out->length = args[i].length;
    out->type = static_cast<ArrType>(args[i].type);
    return true;
  }
  bool GetNumber(size_t i, double* v) const {
    if (args[i].tag != 2) return false;
    *v = args[i].value;
    return true;
  }
  bool GetBool(size_t i, bool* b) const {
    if (args[i].tag != 3) return false;
    *b = args[i].value != 0;
    return true;
  }
};

std::string lastError;

}  // namespace
}  // namespace nabla

using namespace nabla;

// Memory for the caller's copies: 64-byte aligned (as V8's typed arrays are at least 8), null when it cannot grow.
WASM_EXPORT(nb_alloc) void* nb_alloc(uint32_t bytes) { return aligned_alloc(64, (bytes + 63) & ~63u); }
WASM_EXPORT(nb_free) void nb_free(void* p) { free(p); }

// The kernel list as this module was built from it, for the loader to compare with its own.
WASM_EXPORT(nb_kernel_count) int nb_kernel_count() { return kKernelCount; }
WASM_EXPORT(nb_kernel_name) const char* nb_kernel_name(int k) { return k >= 0 && k < kKernelCount ? kKernels[k].name : ""; }
WASM_EXPORT(nb_kernel_spec) const char* nb_kernel_spec(int k) { return k >= 0 && k < kKernelCount ? kKernels[k].spec : ""; }

// Kernel k over argc records at `args`: 0 done, 1 a TypeError, 2 a RangeError (nb_error: the message).
WASM_EXPORT(nb_call) int nb_call(int k, const void* args, int argc) {
  if (k < 0 || k >= kKernelCount) {
    lastError = "nabla wasm: no kernel number " + std::to_string(k);
    return 2;
  }
  Failure fail{false, ""};
  if (CallKernel("wasm", Entries()[k], WasmSource{static_cast<const WasmArg*>(args)}, (size_t)argc, &fail)) return 0;
  lastError = fail.message;
  return fail.range ? 2 : 1;
}
WASM_EXPORT(nb_error) const char* nb_error() { return lastError.c_str(); }

