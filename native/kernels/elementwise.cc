// Elementwise kernels: unary and binary ops (contiguous or broadcast through strides), ReLU's backward and
// strided copies; ranges of elements or rows go to the threads.
#include "base.h"
#include "kernels.h"
#include "threads.h"

namespace nabla {

template <typename T>
static void UnaryLoop(int op, const T* x, T* o, int64_t n) {
  switch (op) {
    case k_neg: for (int64_t i = 0; i < n; i++) o[i] = -x[i]; break;
    case k_exp: for (int64_t i = 0; i < n; i++) o[i] = std::exp(x[i]); break;
    case k_log: for (int64_t i = 0; i < n; i++) o[i] = std::log(x[i]); break;
    case k_log1p: for (int64_t i = 0; i < n; i++) o[i] = std::log1p(x[i]); break;
    case k_sqrt: for (int64_t i = 0; i < n; i++) o[i] = std::sqrt(x[i]); break;
    case k_abs: for (int64_t i = 0; i < n; i++) o[i] = std::fabs(x[i]); break;
    case k_sign: for (int64_t i = 0; i < n; i++) { T v = x[i]; o[i] = v > 0 ? 1 : v < 0 ? -1 : v == 0 ? 0 : v; } break;
    case k_relu: for (int64_t i = 0; i < n; i++) { T v = x[i]; o[i] = v > 0 ? v : (v == v ? 0 : v); } break;
    case k_step: for (int64_t i = 0; i < n; i++) o[i] = x[i] > 0 ? 1 : 0; break;
    case k_sigmoid:
      for (int64_t i = 0; i < n; i++) {
        T v = x[i];
        if (v >= 0) o[i] = 1 / (1 + std::exp(-v));
        else { T e = std::exp(v); o[i] = e / (1 + e); }
      }
      break;
    case k_tanh: for (int64_t i = 0; i < n; i++) o[i] = std::tanh(x[i]); break;
    case k_softplus: for (int64_t i = 0; i < n; i++) { T v = x[i]; o[i] = (v > 0 ? v : 0) + std::log1p(std::exp(-std::fabs(v))); } break;
  }
}


// Binary ops on contiguous operands; `sa`/`sb` are 1 (same shape) or 0 (a broadcast scalar).

template <typename T, typename F>
static inline void BinaryApply(const T* a, int64_t sa, const T* b, int64_t sb, T* o, int64_t n, F f) {
  if (sa == 1 && sb == 1) for (int64_t i = 0; i < n; i++) o[i] = f(a[i], b[i]);
  else if (sa == 1) { T y = b[0]; for (int64_t i = 0; i < n; i++) o[i] = f(a[i], y); }
  else { T x = a[0]; for (int64_t i = 0; i < n; i++) o[i] = f(x, b[i]); }
}

template <typename T>
static void BinaryLoop(int op, const T* a, int64_t sa, const T* b, int64_t sb, T* o, int64_t n) {
  switch (op) {
    case k_add: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return x + y; }); break;
    case k_sub: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return x - y; }); break;
    case k_mul: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return x * y; }); break;
    case k_div: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return x / y; }); break;
    case k_pow: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)std::pow(x, y); }); break;
    case k_maximum: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (x > y || x != x) ? x : y; }); break;
    case k_minimum: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (x < y || x != x) ? x : y; }); break;
    case k_gt: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)(x > y); }); break;
    case k_ge: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)(x >= y); }); break;
    case k_lt: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)(x < y); }); break;
    case k_le: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)(x <= y); }); break;
    case k_eq: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)(x == y); }); break;
    case k_ne: BinaryApply(a, sa, b, sb, o, n, [](T x, T y) { return (T)(x != y); }); break;
  }
}


// The rows of a collapsed shape (every dim but the last, whose run lies inside a row), with the offset of
// the current row in two operands read through per-dim strides: starts at row r0, Next() steps.
struct RowWalk {
  const int32_t *shape, *s0, *s1;
  int nd;
  std::vector<int64_t> idx;
  int64_t a = 0, b = 0;
  RowWalk(const int32_t* shape_, const int32_t* s0_, const int32_t* s1_, int nd_, int64_t r0)
      : shape(shape_), s0(s0_), s1(s1_), nd(nd_), idx(nd_ > 1 ? nd_ - 1 : 1, 0) {
    for (int64_t d = nd - 2, rest = r0; d >= 0; d--) {
      idx[d] = rest % shape[d];
      rest /= shape[d];
      a += idx[d] * s0[d];
      b += idx[d] * s1[d];
    }
  }
  void Next() {
    for (int d = nd - 2; d >= 0; d--) {
      idx[d]++, a += s0[d], b += s1[d];
      if (idx[d] < shape[d]) break;
      a -= (int64_t)s0[d] * shape[d], b -= (int64_t)s1[d] * shape[d], idx[d] = 0;
    }
  }
};

template <typename T>
static void BinaryStridedRows(int op, const T* a, const T* b, T* o, const int32_t* shape, const int32_t* sa, const int32_t* sb, int nd,
                              int64_t r0, int64_t r1);

// General broadcasting: operands read through per-dim strides over the collapsed output shape; the
// innermost dim is a contiguous run of the output.
template <typename T>
void BinaryStrided(int op, const T* a, const T* b, T* o, const int32_t* shape, const int32_t* sa, const int32_t* sb, int nd) {
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; d++) rows *= shape[d];
  int64_t inner = shape[nd - 1];
  // ranges of rows go to the threads; each range finds its starting offsets from its first row
  ParallelFor(rows, (double)inner, [&](int64_t r0, int64_t r1) { BinaryStridedRows(op, a, b, o, shape, sa, sb, nd, r0, r1); });
}

template <typename T>
static void BinaryStridedRows(int op, const T* a, const T* b, T* o, const int32_t* shape, const int32_t* sa, const int32_t* sb, int nd,
                              int64_t r0, int64_t r1) {
  int64_t inner = shape[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1], oo = r0 * inner;
  RowWalk rw(shape, sa, sb, nd, r0);
  for (int64_t r = r0; r < r1; r++, oo += inner, rw.Next()) {
    const T* pa = a + rw.a;
    const T* pb = b + rw.b;
    T* po = o + oo;
    if (ia == 1 && ib == 1) BinaryLoop<T>(op, pa, 1, pb, 1, po, inner);
    else if (ia == 1 && ib == 0) BinaryLoop<T>(op, pa, 1, pb, 0, po, inner);
    else if (ia == 0 && ib == 1) BinaryLoop<T>(op, pa, 0, pb, 1, po, inner);
    else {
      std::vector<T> ta((size_t)inner), tb((size_t)inner);
      for (int64_t i = 0; i < inner; i++) { ta[i] = pa[i * ia]; tb[i] = pb[i * ib]; }
      BinaryLoop<T>(op, ta.data(), 1, tb.data(), 1, po, inner);
    }
  }
}

// Written with vector compares and selects: as a plain loop GCC compiles `g·(y > 0 ? 1 : 0)` to a branch
// per element (4.9 ns per element on random signs, against 0.2 for this form).
template <typename T>
static void ReluBackwardLoop(const T* __restrict g, const T* __restrict y, T* __restrict o, int64_t n) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int N = 16 / sizeof(T);
  const V zero = V{}, one = zero + 1;
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    V gv, yv;
    std::memcpy(&gv, g + i, sizeof(V));
    std::memcpy(&yv, y + i, sizeof(V));
    V r = gv * (yv > zero ? one : zero);
    std::memcpy(o + i, &r, sizeof(V));
  }
  for (; i < n; i++) o[i] = g[i] * (y[i] > 0 ? T(1) : T(0));
}

template <typename T>
void Unary(int op, const T* x, T* out, int64_t n) {
  // transcendental ops cost about ten times a load and a store
  double cost = op == k_exp || op == k_log || op == k_log1p || op == k_sigmoid || op == k_tanh || op == k_softplus ? 10 : 1;
  ParallelFor(n, cost, [&](int64_t lo, int64_t hi) { UnaryLoop<T>(op, x + lo, out + lo, hi - lo); });
}

template <typename T>
void ReluBackward(const T* g, const T* y, T* gx, int64_t n) {
  ParallelFor(n, 1, [&](int64_t lo, int64_t hi) { ReluBackwardLoop(g + lo, y + lo, gx + lo, hi - lo); });
}

template <typename T>
void Binary(int op, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n) {
  ParallelFor(n, op == k_pow ? 10 : 1, [&](int64_t lo, int64_t hi) { BinaryLoop<T>(op, a + lo * sa, sa, b + lo * sb, sb, out + lo, hi - lo); });
}

// Rows of the innermost dim are the unit of work; ranges of rows go to the threads.
template <typename T>
void Copy(const T* src, T* dst, const int32_t* shape, const int32_t* srcStrides, const int32_t* dstStrides, int nd) {
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; d++) rows *= shape[d];
  const int64_t inner = shape[nd - 1], is = srcStrides[nd - 1], id = dstStrides[nd - 1];
  ParallelFor(rows, (double)inner, [&](int64_t r0, int64_t r1) {
    RowWalk rw(shape, srcStrides, dstStrides, nd, r0);
    for (int64_t r = r0; r < r1; r++, rw.Next()) {
      if (is == 1 && id == 1) std::memcpy(dst + rw.b, src + rw.a, sizeof(T) * inner);
      else
        for (int64_t i = 0; i < inner; i++) dst[rw.b + i * id] = src[rw.a + i * is];
    }
  });
}

#define INSTANTIATE(T)                                                                                                 \
  template void Unary<T>(int, const T*, T*, int64_t);                                                                \
  template void ReluBackward<T>(const T*, const T*, T*, int64_t);                                                    \
  template void Binary<T>(int, const T*, int64_t, const T*, int64_t, T*, int64_t);                                   \
  template void BinaryStrided<T>(int, const T*, const T*, T*, const int32_t*, const int32_t*, const int32_t*, int); \
  template void Copy<T>(const T*, T*, const int32_t*, const int32_t*, const int32_t*, int);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
