// The Node-API binding: reads the call's values for the generic parser of calls.h (which checks them and
// runs the kernel) and throws its errors; the exports, info() and the thread pool's start.
#include <node_api.h>

#include <cstdio>
#include <cstdlib>  // defines __GLIBC__ where it applies
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "calls.h"

namespace nabla {
namespace {

// The call's arguments as calls.h's Parse reads them.
struct NapiSource {
  napi_env env;
  const napi_value* argv;
  bool IsNull(size_t i) const {
    napi_valuetype vt = napi_undefined;
    napi_typeof(env, argv[i], &vt);
    return vt == napi_undefined || vt == napi_null;
  }
  bool GetArr(size_t i, Arr* out) const {
    bool is = false;
    if (napi_is_typedarray(env, argv[i], &is) != napi_ok || !is) return false;
    napi_typedarray_type type;
    napi_value buf;
    size_t off;
    if (napi_get_typedarray_info(env, argv[i], &type, &out->length, &out->data, &buf, &off) != napi_ok) return false;
    out->type = type == napi_float32_array   ? ArrType::kFloat32
                : type == napi_float64_array ? ArrType::kFloat64
                : type == napi_int32_array   ? ArrType::kInt32
                                             : ArrType::kOther;
    return true;
  }
  bool GetNumber(size_t i, double* v) const { return napi_get_value_double(env, argv[i], v) == napi_ok; }
  bool GetBool(size_t i, bool* b) const { return napi_get_value_bool(env, argv[i], b) == napi_ok; }
};

static napi_value Call(napi_env env, napi_callback_info info) {
  size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs];
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) {
    napi_throw_error(env, nullptr, "nabla native: cannot read the arguments");
    return nullptr;
  }
  const Entry& e = *static_cast<const Entry*>(data);
  Failure fail{false, ""};
  if (CallKernel("native", e, NapiSource{env, argv}, argc, &fail)) return nullptr;
  if (fail.range) napi_throw_range_error(env, nullptr, fail.message.c_str());
  else napi_throw_type_error(env, nullptr, fail.message.c_str());
  return nullptr;
}

static napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, s, t;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, IsaName(isa), NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, "isa", s);
  napi_create_int32(env, ThreadCount(), &t);
  napi_set_named_property(env, obj, "threads", t);
  return obj;
}

// Once per process, however many JS threads (worker_threads) load the addon: the allocator settings and the pool.
static void StartOnce() {
#if defined(__GLIBC__)
  // Tensors are typed arrays whose memory V8 takes from calloc, and glibc serves blocks above 128 KB with a
  // fresh mmap: every new tensor would then be faulted in page by page on first write, slowly when two
  // threads write at once. Such blocks stay on the heap instead, where freed tensors' pages are reused
  // (32 MB is glibc's ceiling for this threshold); the MALLOC_*_ environment variables still take precedence.
  if (!getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  if (!getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  // NABLA_NUM_THREADS: a whole number from 1 to kMaxThreads; anything else is reported and replaced
  constexpr int kMaxThreads = 256;
  const int hardware = std::max(1, (int)std::thread::hardware_concurrency());
  int threads = hardware;
  if (const char* e = getenv("NABLA_NUM_THREADS"); e && *e) {
    char* end = nullptr;
    const long v = strtol(e, &end, 10);
    if (*end != 0 || v < 1) {
      fprintf(stderr, "nabla: NABLA_NUM_THREADS=%s is not a whole number of threads; using %d\n", e, hardware);
    } else if (v > kMaxThreads) {
      fprintf(stderr, "nabla: NABLA_NUM_THREADS=%s is more than %d; using %d\n", e, kMaxThreads, kMaxThreads);
      threads = kMaxThreads;
    } else {
      threads = (int)v;
    }
  }
  StartThreads(threads);
}

napi_value Init(napi_env env, napi_value exports) {
  static std::once_flag once;
  std::call_once(once, StartOnce);
  // the entries live as long as the process (every JS thread that loads the addon shares them)
  for (const Entry& e : Entries()) {
    napi_value fn;
    napi_create_function(env, e.k->name, NAPI_AUTO_LENGTH, Call, const_cast<Entry*>(&e), &fn);
    napi_set_named_property(env, exports, e.k->name, fn);
  }
  napi_value info;
  napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, nullptr, &info);
  napi_set_named_property(env, exports, "info", info);
  return exports;
}

}  // namespace
}  // namespace nabla

NAPI_MODULE(NODE_GYP_MODULE_NAME, nabla::Init)
