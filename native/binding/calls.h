// What a binding calls: the kernels of kernel_list.h behind one generic argument parser, each with the
// length checks its arrays need. No Node-API and no WebAssembly here: napi.cc (the Node addon) and wasm.cc
// (the WebAssembly module) each read their caller's values through a small source type and include this
// file, so both check every call the same way and throw the same errors.
#pragma once

#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "../kernels/kernels.h"
#include "kernel_list.h"

namespace nabla {
namespace {

constexpr int kMaxArgs = 16;

enum class ArrType { kOther, kFloat32, kFloat64, kInt32 };

struct Arr {
  void* data = nullptr;
  size_t length = 0;
  ArrType type = ArrType::kOther;
};

// A call's arguments, parsed and type-checked against the kernel's argument kinds.
struct Args {
  const char* binding;  // "native" or "wasm", for the error messages
  const char* kernel;
  Arr arr[kMaxArgs];
  bool present[kMaxArgs] = {};
  double num[kMaxArgs] = {};
  bool flag[kMaxArgs] = {};
  ConvGeom geom;  // the call's geometry argument (a kernel has at most one)
  bool isDouble = false;  // the float arrays are Float64Array

  template <typename T>
  T* f(int i) const { return present[i] ? static_cast<T*>(arr[i].data) : nullptr; }
  const int32_t* i32(int i) const { return present[i] ? static_cast<const int32_t*>(arr[i].data) : nullptr; }
  int32_t* i32w(int i) const { return static_cast<int32_t*>(arr[i].data); }
  const double* f64(int i) const { return static_cast<const double*>(arr[i].data); }
  double* f64w(int i) const { return static_cast<double*>(arr[i].data); }
  size_t len(int i) const { return arr[i].length; }
  int64_t n(int i) const { return (int64_t)num[i]; }
};

// The error a kernel throws: TypeError for arguments of the wrong kind, RangeError for sizes that do not fit.
struct Failure {
  bool range;
  std::string message;
};

static Failure TypeFail(const Args& a, const std::string& what) { return {false, std::string("nabla ") + a.binding + " " + a.kernel + ": " + what}; }
static Failure RangeFail(const Args& a, const std::string& what) { return {true, std::string("nabla ") + a.binding + " " + a.kernel + ": " + what}; }

// Geometry of a convolution or pooling, [n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, o, groups].
static bool ToGeom(const Arr& a, ConvGeom* cg) {
  if (a.type != ArrType::kInt32 || a.length != 16) return false;
  const int32_t* q = static_cast<const int32_t*>(a.data);
  Geom& g = cg->g;
  int* dst[] = {&g.n, &g.c, &g.h, &g.w, &g.kh, &g.kw, &g.sh, &g.sw, &g.ph, &g.pw, &g.dh, &g.dw, &g.oh, &g.ow, &cg->o, &cg->groups};
  for (int i = 0; i < 16; i++) *dst[i] = q[i];
  return true;
}

// Parse the caller's values by the kinds in `spec`; an error names the kernel and the argument (messages are
// built only when an argument is wrong: this runs on every kernel call). `Src` reads argument i of the call:
// IsNull(i) (null or undefined), GetArr(i, &arr) (false: not a typed array), GetNumber(i, &v), GetBool(i, &b).
template <typename Src>
static bool Parse(const Src& src, size_t argc, const char* spec, size_t want, const std::string* names, Args* a, Failure* fail) {
  if (argc < want) {
    *fail = TypeFail(*a, std::to_string(want) + " arguments expected, got " + std::to_string(argc));
    return false;
  }
  auto bad = [&](size_t i, const char* what, bool range = false) {
    const std::string m = "argument " + names[i] + what;
    *fail = range ? RangeFail(*a, m) : TypeFail(*a, m);
    return false;
  };
  ArrType floatType = ArrType::kOther;
  for (size_t i = 0; i < want; i++) {
    const char kind = spec[i];
    if ((kind == 'F' || kind == 'I') && src.IsNull(i)) continue;
    a->present[i] = true;
    switch (kind) {
      case 'f': case 'F': case 'i': case 'I': case 'd': case 'g': {
        if (!src.GetArr(i, &a->arr[i])) return bad(i, " must be a typed array");
        const ArrType t = a->arr[i].type;
        if (kind == 'f' || kind == 'F') {
          if (t != ArrType::kFloat32 && t != ArrType::kFloat64) return bad(i, " must be a Float32Array or Float64Array");
          if (floatType != ArrType::kOther && t != floatType) {
            *fail = TypeFail(*a, "float32 or float64 arrays of one type expected (argument " + names[i] + " differs)");
            return false;
          }
          floatType = t;
        } else if ((kind == 'i' || kind == 'I') && t != ArrType::kInt32) {
          return bad(i, " must be an Int32Array");
        } else if (kind == 'd' && t != ArrType::kFloat64) {
          return bad(i, " must be a Float64Array");
        } else if (kind == 'g' && !ToGeom(a->arr[i], &a->geom)) {
          return bad(i, " must be an Int32Array of 16 geometry values");
        }
        break;
      }
      case 'n': case 'x': {
        double v = 0;
        if (!src.GetNumber(i, &v)) return bad(i, " must be a number");
        if (kind == 'n' && !(v >= 0 && v < 2147483648.0 && v == (double)(int64_t)v)) {
          return bad(i, (" must be an integer in [0, 2^31), got " + std::to_string(v)).c_str(), true);
        }
        a->num[i] = v;
        break;
      }
      case 'b':
        if (!src.GetBool(i, &a->flag[i])) return bad(i, " must be a boolean");
        break;
    }
  }
  a->isDouble = floatType == ArrType::kFloat64;
  return true;
}

// Run fn(T{}) for the element type of the call's float arrays.
template <typename F>
static void ForFloat(const Args& a, F fn) {
  if (a.isDouble) fn(double{});
  else fn(float{});
}

// ---------------------------------------------------------------- the kernels: sizes checked, then the call
// Each returns false with *fail set when the arrays do not fit the sizes given.

#define CHECK_SIZE(cond, what)   \
  if (!(cond)) {                 \
    *fail = RangeFail(a, what);  \
    return false;                \
  }

static bool Run_matmul(const Args& a, Failure* fail) {
  const int64_t m = a.n(7), k = a.n(8), n = a.n(9), batch = (int64_t)a.len(1);
  CHECK_SIZE(a.len(4) == (size_t)batch && a.len(6) == (size_t)(batch * m * n), "batch offsets and out do not match [batch, m, n]");
  const int32_t *ao = a.i32(1), *bo = a.i32(4);
  for (int64_t i = 0; i < batch; i++)
    CHECK_SIZE(ao[i] >= 0 && bo[i] >= 0 && (size_t)ao[i] + m * k <= a.len(0) && (size_t)bo[i] + k * n <= a.len(3),
               "a batch offset reaches past its matrix array");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Gemm<T>(a.f<T>(0), ao, a.flag[2], a.f<T>(3), bo, a.flag[5], a.f<T>(6), (int)batch, (int)m, (int)k, (int)n);
  });
  return true;
}

// linear(x, w, bias, relu, out, m, k, n): out [m, n] = x [m, k] · wᵀ (w [n, k]) by the GEMM that matmul
// runs for it, then + bias [n] (or none), then max(·, 0) with relu (NaN stays NaN): matmul's, binary add's
// and relu's bits, in one call.
static bool Run_linear(const Args& a, Failure* fail) {
  const int64_t m = a.n(5), k = a.n(6), n = a.n(7);
  CHECK_SIZE(a.len(0) == (size_t)(m * k) && a.len(1) == (size_t)(n * k) && a.len(4) == (size_t)(m * n),
             "x, w and out do not match [m, k], [n, k] and [m, n]");
  CHECK_SIZE(!a.present[2] || a.len(2) == (size_t)n, "bias length is not n");
  const int32_t zero = 0;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    T* out = a.f<T>(4);
    Gemm<T>(a.f<T>(0), &zero, false, a.f<T>(1), &zero, true, out, 1, (int)m, (int)k, (int)n);
    const T* bias = a.f<T>(2);
    const bool relu = a.flag[3];
    if (bias || relu)
      for (int64_t i = 0; i < m; i++) {
        T* __restrict row = out + i * n;
        if (bias)
          for (int64_t j = 0; j < n; j++) row[j] += bias[j];
        if (relu)
          for (int64_t j = 0; j < n; j++) row[j] = row[j] > 0 ? row[j] : (row[j] == row[j] ? T(0) : row[j]);
      }
  });
  return true;
}

// A convolution's geometry and the lengths of its three arrays (x, w, y) in the order of kernel `which`.
static bool CheckConv(const Args& a, const ConvGeom& cg, size_t p, size_t q, size_t out, int which, Failure* fail) {
  const Geom& g = cg.g;
  const bool sane = g.n >= 0 && g.c > 0 && g.h > 0 && g.w > 0 && g.kh > 0 && g.kw > 0 && g.sh > 0 && g.sw > 0 && g.ph >= 0 && g.pw >= 0 &&
                    g.dh > 0 && g.dw > 0 && cg.o > 0 && cg.groups > 0 && g.c % cg.groups == 0 && cg.o % cg.groups == 0 &&
                    g.oh == (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1 && g.ow == (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1 &&
                    g.oh > 0 && g.ow > 0;
  const size_t xs = (size_t)g.n * g.c * g.h * g.w, ys = (size_t)g.n * cg.o * g.oh * g.ow, ws = (size_t)cg.o * (g.c / std::max(1, cg.groups)) * g.kh * g.kw;
  const size_t want[3][3] = {{xs, ws, ys}, {ys, ws, xs}, {xs, ys, ws}};
  CHECK_SIZE(sane && p == want[which][0] && q == want[which][1] && out == want[which][2], "array lengths do not match the convolution geometry");
  return true;
}

// The geometry with the call's precision (argument fastArg); `algo` (argument algoArg) must hold one value.
static bool ConvCall(const Args& a, int fastArg, int algoArg, ConvGeom* cg, Failure* fail) {
  *cg = a.geom;
  cg->fast = a.n(fastArg) != 0;
  CHECK_SIZE(a.len(algoArg) >= 1, "algo must hold at least one value");
  return true;
}

static bool Run_conv2d(const Args& a, Failure* fail) {
  ConvGeom cg;
  if (!ConvCall(a, 5, 6, &cg, fail)) return false;
  ConvAlgo algo = ConvAlgo::kIm2col;
  if (!CheckConv(a, cg, a.len(0), a.len(1), a.len(3), 0, fail)) return false;
  CHECK_SIZE(!a.present[4] || a.len(4) == (size_t)cg.o, "bias length is not the output channels");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    algo = ConvForward<T>(a.f<T>(0), a.f<T>(1), cg, a.f<T>(3), a.f<T>(4));
  });
  a.i32w(6)[0] = (int32_t)algo;
  return true;
}

static bool Run_conv2dBackwardInput(const Args& a, Failure* fail) {
  ConvGeom cg;
  if (!ConvCall(a, 4, 5, &cg, fail)) return false;
  ConvAlgo algo = ConvAlgo::kIm2col;
  if (!CheckConv(a, cg, a.len(0), a.len(1), a.len(3), 1, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    algo = ConvBackwardInput<T>(a.f<T>(0), a.f<T>(1), cg, a.f<T>(3));
  });
  a.i32w(5)[0] = (int32_t)algo;
  return true;
}

static bool Run_conv2dBackwardWeight(const Args& a, Failure* fail) {
  ConvGeom cg;
  if (!ConvCall(a, 4, 5, &cg, fail)) return false;
  ConvAlgo algo = ConvAlgo::kIm2col;
  if (!CheckConv(a, cg, a.len(0), a.len(1), a.len(3), 2, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    algo = ConvBackwardWeight<T>(a.f<T>(0), a.f<T>(1), cg, a.f<T>(3));
  });
  a.i32w(5)[0] = (int32_t)algo;
  return true;
}

// im2col(x, geom, padValue, out) / col2im(cols, geom, out): x [N, C, H, W] ↔ columns [N, C·kh·kw, oh·ow].
static bool CheckUnfold(const Args& a, const Geom& g, size_t image, size_t cols, Failure* fail) {
  CHECK_SIZE(g.n >= 0 && g.c >= 0 && g.h >= 0 && g.w >= 0 && g.kh >= 0 && g.kw >= 0 && g.oh >= 0 && g.ow >= 0 && g.sh > 0 && g.sw > 0,
             "the geometry has a negative size or a zero stride");
  CHECK_SIZE(image == (size_t)g.n * g.c * g.h * g.w && cols == (size_t)g.n * g.c * g.kh * g.kw * g.oh * g.ow,
             "array lengths do not match the geometry");
  return true;
}

static bool Run_im2col(const Args& a, Failure* fail) {
  const Geom& g = a.geom.g;
  if (!CheckUnfold(a, g, a.len(0), a.len(3), fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Im2col<T>(a.f<T>(0), g, (T)a.num[2], a.f<T>(3));
  });
  return true;
}

static bool Run_col2im(const Args& a, Failure* fail) {
  const Geom& g = a.geom.g;
  if (!CheckUnfold(a, g, a.len(2), a.len(0), fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Col2im<T>(a.f<T>(0), g, a.f<T>(2));
  });
  return true;
}

static bool Run_maxPool2dIndices(const Args& a, Failure* fail) {
  const Geom& g = a.geom.g;
  const size_t planes = (size_t)g.n, outs = planes * g.oh * g.ow;
  CHECK_SIZE(g.n >= 0 && g.h > 0 && g.w > 0 && g.kh > 0 && g.kw > 0 && g.sh > 0 && g.sw > 0 && g.dh > 0 && g.dw > 0 && g.oh >= 0 && g.ow >= 0,
             "the geometry is not a pooling window's");
  CHECK_SIZE(a.len(0) == planes * g.h * g.w && a.len(2) == outs && (!a.present[3] || a.len(3) == outs), "array lengths do not match the geometry");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    MaxPoolIndices<T>(a.f<T>(0), g, a.i32w(2), a.f<T>(3));
  });
  return true;
}

// conv2dMaxPool(x, w, geom, bias, pool, fast, relu, inPad, out, algo): pool = [kh, kw, sh, sw, ph, pw, dh, dw, oh, ow]
// of the max pooling over the convolution's output planes; inPad (or null) = [top, bottom, left, right]
// zeros around x, which geom's h and w include.
static bool Run_conv2dMaxPool(const Args& a, Failure* fail) {
  ConvGeom cg;
  if (!ConvCall(a, 5, 9, &cg, fail)) return false;
  const Geom& g = cg.g;
  CHECK_SIZE(a.len(4) == 10, "pool must hold 10 values [kh, kw, sh, sw, ph, pw, dh, dw, oh, ow]");
  const int32_t* q = a.i32(4);
  const Geom pool{g.n * cg.o, 1, g.oh, g.ow, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9]};
  const size_t outs = (size_t)g.n * cg.o * pool.oh * pool.ow;
  const int32_t* inPad = a.i32(7);
  size_t xs = a.len(0);
  if (inPad) {
    CHECK_SIZE(a.len(7) == 4 && inPad[0] >= 0 && inPad[1] >= 0 && inPad[2] >= 0 && inPad[3] >= 0 && inPad[0] + inPad[1] < g.h &&
                   inPad[2] + inPad[3] < g.w,
               "inPad must hold 4 paddings [top, bottom, left, right] smaller than the input");
    CHECK_SIZE(xs == (size_t)g.n * g.c * (g.h - inPad[0] - inPad[1]) * (g.w - inPad[2] - inPad[3]), "x does not match the unpadded input");
    xs = (size_t)g.n * g.c * g.h * g.w;
  }
  if (!CheckConv(a, cg, xs, a.len(1), (size_t)g.n * cg.o * g.oh * g.ow, 0, fail)) return false;
  CHECK_SIZE(!a.present[3] || a.len(3) == (size_t)cg.o, "bias length is not the output channels");
  CHECK_SIZE(pool.kh > 0 && pool.kw > 0 && pool.sh > 0 && pool.sw > 0 && pool.dh > 0 && pool.dw > 0 && pool.ph >= 0 && pool.pw >= 0 &&
                 2 * pool.ph <= pool.kh && 2 * pool.pw <= pool.kw && pool.oh > 0 && pool.ow > 0 &&
                 (int64_t)(pool.oh - 1) * pool.sh - pool.ph < pool.h && (int64_t)(pool.ow - 1) * pool.sw - pool.pw < pool.w,
             "pool is not a pooling window over the convolution's output");
  CHECK_SIZE(a.len(8) == outs, "out does not match [n, o, pool oh, pool ow]");
  ConvAlgo algo = ConvAlgo::kIm2col;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    algo = ConvMaxPool<T>(a.f<T>(0), a.f<T>(1), cg, a.f<T>(3), pool, a.flag[6], a.f<T>(8), inPad);
  });
  a.i32w(9)[0] = (int32_t)algo;
  return true;
}

static bool Run_unary(const Args& a, Failure* fail) {
  CHECK_SIZE(a.n(0) <= k_step, "unknown op code");
  CHECK_SIZE(a.len(1) == a.len(2), "x and out differ in length");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Unary<T>((int)a.n(0), a.f<T>(1), a.f<T>(2), (int64_t)a.len(1));
  });
  return true;
}

static bool Run_reluBackward(const Args& a, Failure* fail) {
  CHECK_SIZE(a.len(0) == a.len(2) && a.len(1) == a.len(2), "g, y and gx differ in length");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    ReluBackward<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), (int64_t)a.len(2));
  });
  return true;
}

// Strides and shape of a collapsed strided walk; false when an index it touches lies outside [0, length).
static bool FitsWalk(const int32_t* shape, const int32_t* strides, int nd, int64_t offset, size_t length) {
  int64_t last = offset, count = 1;
  for (int d = 0; d < nd; d++) {
    if (shape[d] < 0 || strides[d] < 0) return false;
    count *= shape[d];
    if (shape[d] > 0) last += (int64_t)(shape[d] - 1) * strides[d];
  }
  return count == 0 || (size_t)last < length;
}

static bool Run_copy(const Args& a, Failure* fail) {
  const int nd = (int)a.len(4);
  CHECK_SIZE(nd > 0 && a.len(5) == (size_t)nd && a.len(6) == (size_t)nd, "shape and strides differ in length");
  const int32_t *shape = a.i32(4), *ss = a.i32(5), *ds = a.i32(6);
  CHECK_SIZE(FitsWalk(shape, ss, nd, a.n(1), a.len(0)) && FitsWalk(shape, ds, nd, a.n(3), a.len(2)),
             "shape, strides and offsets do not fit the arrays");
  for (int d = 0; d < nd; d++)
    if (shape[d] == 0) return true;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Copy<T>(a.f<T>(0) + a.n(1), a.f<T>(2) + a.n(3), shape, ss, ds, nd);
  });
  return true;
}

static bool CheckReduce(const Args& a, size_t outLength, Failure* fail) {
  const int64_t outer = a.n(2), size = a.n(3), inner = a.n(4);
  CHECK_SIZE(a.len(1) == (size_t)(outer * size * inner) && outLength == (size_t)(outer * inner), "array lengths do not match [outer, size, inner]");
  return true;
}

static bool Run_reduce(const Args& a, Failure* fail) {
  CHECK_SIZE(a.n(0) <= 2, "unknown op code");
  if (!CheckReduce(a, a.len(5), fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Reduce<T>((int)a.n(0), a.f<T>(1), a.n(2), a.n(3), a.n(4), a.f<T>(5));
  });
  return true;
}

static bool Run_argReduce(const Args& a, Failure* fail) {
  CHECK_SIZE(a.n(0) <= 1, "unknown op code");
  if (!CheckReduce(a, a.len(5), fail)) return false;
  CHECK_SIZE(a.n(3) > 0 || a.len(5) == 0, "cannot reduce over a zero-size dimension");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    ArgReduce<T>((int)a.n(0), a.f<T>(1), a.n(2), a.n(3), a.n(4), a.i32w(5));
  });
  return true;
}

static bool Run_binary(const Args& a, Failure* fail) {
  CHECK_SIZE(a.n(0) <= k_ne, "unknown op code");
  const size_t n = a.len(5);
  auto fits = [&](size_t len, int64_t st) { return st == 1 ? len == n : st == 0 && (len >= 1 || n == 0); };
  CHECK_SIZE(fits(a.len(1), a.n(2)) && fits(a.len(3), a.n(4)), "operand lengths do not match the output");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    Binary<T>((int)a.n(0), a.f<T>(1), a.n(2), a.f<T>(3), a.n(4), a.f<T>(5), (int64_t)n);
  });
  return true;
}

static bool Run_binaryStrided(const Args& a, Failure* fail) {
  CHECK_SIZE(a.n(0) <= k_ne, "unknown op code");
  const int nd = (int)a.len(4);
  CHECK_SIZE(nd >= 1 && a.len(5) == (size_t)nd && a.len(6) == (size_t)nd, "shape and strides differ in length");
  const int32_t *shape = a.i32(4), *sa = a.i32(5), *sb = a.i32(6);
  int64_t count = 1;
  for (int d = 0; d < nd; d++) count *= std::max<int32_t>(shape[d], 0);
  CHECK_SIZE((size_t)count == a.len(3) && FitsWalk(shape, sa, nd, 0, a.len(1)) && FitsWalk(shape, sb, nd, 0, a.len(2)),
             "shape and strides do not fit the arrays");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    BinaryStrided<T>((int)a.n(0), a.f<T>(1), a.f<T>(2), a.f<T>(3), shape, sa, sb, nd);
  });
  return true;
}

// Per-channel Float64Arrays of batch norm: each of length c.
static bool PerChannel(const Args& a, std::initializer_list<int> which, int64_t c) {
  for (int i : which)
    if (a.present[i] && a.len(i) != (size_t)c) return false;
  return true;
}

static bool Run_batchNormStats(const Args& a, Failure* fail) {
  const int64_t n = a.n(1), c = a.n(2), inner = a.n(3);
  CHECK_SIZE(a.len(0) == (size_t)(n * c * inner), "x does not have n·c·inner elements");
  CHECK_SIZE(PerChannel(a, {4, 5}, c), "mean and variance must have c elements");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    BatchNormStats<T>(a.f<T>(0), n, c, inner, a.f64w(4), a.f64w(5));
  });
  return true;
}

static bool Run_channelAffine(const Args& a, Failure* fail) {
  const int64_t n = a.n(1), c = a.n(2), inner = a.n(3);
  CHECK_SIZE(a.len(0) == (size_t)(n * c * inner) && a.len(6) == a.len(0), "x and out must have n·c·inner elements");
  CHECK_SIZE(PerChannel(a, {4, 5}, c), "scale and shift must have c elements");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    ChannelAffine<T>(a.f<T>(0), n, c, inner, a.f64(4), a.f64(5), a.f<T>(6), a.flag[7]);
  });
  return true;
}

static bool Run_batchNormBackward(const Args& a, Failure* fail) {
  const int64_t n = a.n(2), c = a.n(3), inner = a.n(4);
  const size_t len = (size_t)(n * c * inner);
  CHECK_SIZE(a.len(0) == len && a.len(1) == len && (!a.present[9] || a.len(9) == len) && (!a.present[12] || a.len(12) == len),
             "gy, x, gx and reluOut must have n·c·inner elements");
  CHECK_SIZE(PerChannel(a, {5, 6, 7, 10, 11}, c), "mean, invstd, scale, sumG and sumGXhat must have c elements");
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    BatchNormBackward<T>(a.f<T>(0), a.f<T>(1), n, c, inner, a.f64(5), a.f64(6), a.f64(7), a.flag[8], a.f<T>(9), a.f64w(10), a.f64w(11),
                         a.f<T>(12));
  });
  return true;
}

// gather(x, outer, size, inner, idx, idxSize, out) / scatterAdd(out, outer, size, inner, idx, idxSize, src, clear, windows)
static bool GatherScatter(const Args& a, bool isGather, Failure* fail) {
  const int64_t outer = a.n(1), size = a.n(2), inner = a.n(3), idxSize = a.n(5);
  CHECK_SIZE(a.len(0) == (size_t)(outer * size * inner) && a.len(4) == (size_t)(outer * idxSize * inner) && a.len(6) == a.len(4),
             "array lengths do not match [outer, size, inner] and the index count");
  // the 2×2 pool windows must describe these rows exactly (positive sizes, oh·ow indices per h×w row)
  const int32_t* windows = isGather ? nullptr : a.i32(8);
  if (windows) {
    const int32_t* q = windows;
    CHECK_SIZE(a.len(8) == 4 && q[2] > 0 && q[3] > 0 && (int64_t)q[0] * q[1] == size && (int64_t)q[2] * q[3] == idxSize && 2 * q[2] <= q[0] &&
                   2 * q[3] <= q[1],
               "pool windows [h, w, oh, ow] do not match the rows");
  }
  bool ok = true;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    ok = isGather ? Gather<T>(a.f<T>(0), outer, size, inner, a.i32(4), idxSize, a.f<T>(6))
                  : ScatterAdd<T>(a.f<T>(0), outer, size, inner, a.i32(4), idxSize, a.f<T>(6), a.flag[7], windows);
  });
  CHECK_SIZE(ok, "index out of range for a dimension of size " + std::to_string(size));
  return true;
}

static bool Run_gather(const Args& a, Failure* fail) { return GatherScatter(a, true, fail); }
static bool Run_scatterAdd(const Args& a, Failure* fail) { return GatherScatter(a, false, fail); }

#define COUNT_ONE(name) +1
static bool Run_adamUpdate(const Args& a, Failure* fail) {
  const size_t n = a.len(0);
  CHECK_SIZE(a.len(1) == n && a.len(2) == n && a.len(3) == n && (!a.present[4] || a.len(4) == n), "param, grad and moments differ in length");
  CHECK_SIZE(a.len(5) == 0 NABLA_ADAM_HYPER(COUNT_ONE), "hyper has the wrong length");
  const double* q = a.f64(5);
  const AdamHyper h{q[0], q[1], q[2], q[3], q[4], q[5], q[6] != 0, q[7] != 0};
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    AdamUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), a.f<T>(3), a.f<T>(4), (int64_t)n, h);
  });
  return true;
}

static bool Run_sgdUpdate(const Args& a, Failure* fail) {
  const size_t n = a.len(0);
  CHECK_SIZE(a.len(1) == n && (!a.present[2] || a.len(2) == n), "param, grad and momentum buffer differ in length");
  CHECK_SIZE(a.len(3) == 0 NABLA_SGD_HYPER(COUNT_ONE), "hyper has the wrong length");
  const double* q = a.f64(3);
  const SgdHyper h{q[0], q[1], q[2], q[3], q[4] != 0, q[5] != 0, q[6] != 0};
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    SgdUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), (int64_t)n, h);
  });
  return true;
}

// The other optimizers: arrays [0, states) of one length (the optional ones may be null), then `hyper`
// filled into the struct H of doubles (its fields in the order of its ops.h list).
template <typename H>
static bool UpdateArgs(const Args& a, int arrays, int fields, H* h, Failure* fail) {
  static_assert(std::is_standard_layout<H>::value, "hyper structs are plain doubles");
  const size_t n = a.len(0);
  for (int i = 1; i < arrays; i++) CHECK_SIZE(!a.present[i] || a.len(i) == n, "param, grad and state arrays differ in length");
  CHECK_SIZE(a.len(arrays) == (size_t)fields && sizeof(H) == fields * sizeof(double), "hyper has the wrong length");
  std::memcpy(h, a.f64(arrays), sizeof(H));
  return true;
}

static bool Run_rmspropUpdate(const Args& a, Failure* fail) {
  RmspropHyper h;
  if (!UpdateArgs(a, 5, 0 NABLA_RMSPROP_HYPER(COUNT_ONE), &h, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    RmspropUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), a.f<T>(3), a.f<T>(4), (int64_t)a.len(0), h);
  });
  return true;
}

static bool Run_adagradUpdate(const Args& a, Failure* fail) {
  AdagradHyper h;
  if (!UpdateArgs(a, 3, 0 NABLA_ADAGRAD_HYPER(COUNT_ONE), &h, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    AdagradUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), (int64_t)a.len(0), h);
  });
  return true;
}

static bool Run_adadeltaUpdate(const Args& a, Failure* fail) {
  AdadeltaHyper h;
  if (!UpdateArgs(a, 4, 0 NABLA_ADADELTA_HYPER(COUNT_ONE), &h, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    AdadeltaUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), a.f<T>(3), (int64_t)a.len(0), h);
  });
  return true;
}

static bool Run_nadamUpdate(const Args& a, Failure* fail) {
  NadamHyper h;
  if (!UpdateArgs(a, 4, 0 NABLA_NADAM_HYPER(COUNT_ONE), &h, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    NadamUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), a.f<T>(3), (int64_t)a.len(0), h);
  });
  return true;
}

static bool Run_adamaxUpdate(const Args& a, Failure* fail) {
  AdamaxHyper h;
  if (!UpdateArgs(a, 4, 0 NABLA_ADAMAX_HYPER(COUNT_ONE), &h, fail)) return false;
  ForFloat(a, [&](auto tag) {
    using T = decltype(tag);
    AdamaxUpdate<T>(a.f<T>(0), a.f<T>(1), a.f<T>(2), a.f<T>(3), (int64_t)a.len(0), h);
  });
  return true;
}

// ---------------------------------------------------------------- the table

struct Kernel {
  const char* name;
  const char* spec;
  const char* names;
  bool (*run)(const Args&, Failure*);
};

#define KERNEL_ROW(name, spec, names) {#name, spec, names, Run_##name},
const Kernel kKernels[] = {NABLA_KERNELS(KERNEL_ROW)};
constexpr int kKernelCount = sizeof(kKernels) / sizeof(kKernels[0]);

// A kernel as a binding calls it: its row, the argument count and the names split once (an argument the
// kernel writes is marked `!` or `+` in the list; the mark is not part of its name).
struct Entry {
  const Kernel* k;
  size_t want;
  std::vector<std::string> names;
};

// The entries of every kernel, in the list's order (built once, never freed).
static const std::vector<Entry>& Entries() {
  static const std::vector<Entry>* entries = [] {
    auto* v = new std::vector<Entry>();
    for (const Kernel& k : kKernels) {
      Entry e{&k, std::strlen(k.spec), {}};
      for (const char *p = k.names, *q; *p; p = *q ? q + 1 : q) {
        q = std::strchr(p, ' ');
        if (!q) q = p + std::strlen(p);
        const char* end = q > p && (q[-1] == '!' || q[-1] == '+') ? q - 1 : q;
        e.names.emplace_back(p, end - p);
      }
      v->push_back(std::move(e));
    }
    return v;
  }();
  return *entries;
}

// Parse the call's values for kernel `e` and run it; false with *fail set when an argument is wrong.
template <typename Src>
static bool CallKernel(const char* binding, const Entry& e, const Src& src, size_t argc, Failure* fail) {
  Args args;
  args.binding = binding;
  args.kernel = e.k->name;
  return Parse(src, argc, e.k->spec, e.want, e.names.data(), &args, fail) && e.k->run(args, fail);
}

}  // namespace
}  // namespace nabla
