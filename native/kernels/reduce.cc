// Reductions along the middle axis of [outer, size, inner], accumulated in double.
#include "accumulate.h"
#include "base.h"
#include "kernels.h"
#include "threads.h"

namespace nabla {


// Reduce the middle axis of [outer, size, inner]: 0 sum, 1 max, 2 min (NaN propagates); accumulates in
// double. Compiled per ISA (Reduce##ISA): the 8-lane double sums are one AVX-512 vector.
template <typename T>
static inline __attribute__((always_inline)) void ReduceBody(int op, const T* x, int64_t outer, int64_t size, int64_t inner, T* out) {
  if (inner == 1) {  // reductions over the last dims: a register accumulator per row
    for (int64_t o = 0; o < outer; o++) {
      const T* base = x + o * size;
      double a = op == 0 ? 0.0 : size > 0 ? (double)base[0] : (op == 1 ? -INFINITY : INFINITY);
      if (op == 0) {
        Sum8 s;
        Accumulate(s, base, size, [](auto v) { return v; });
        a = s.Total();
      } else
        for (int64_t k = 1; k < size; k++) {
          double v = base[k];
          if (op == 1 ? (v > a || v != v) : (v < a || v != v)) a = v;
        }
      out[o] = (T)a;
    }
    return;
  }
  std::vector<double> acc((size_t)inner);
  for (int64_t o = 0; o < outer; o++) {
    const T* base = x + o * size * inner;
    if (op == 0) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = 0; k < size; k++)
        for (int64_t i = 0; i < inner; i++) acc[i] += base[k * inner + i];
    } else {
      double init = op == 1 ? -INFINITY : INFINITY;
      for (int64_t i = 0; i < inner; i++) acc[i] = size > 0 ? (double)base[i] : init;
      for (int64_t k = 1; k < size; k++)
        for (int64_t i = 0; i < inner; i++) {
          double v = base[k * inner + i];
          if (op == 1 ? (v > acc[i] || v != v) : (v < acc[i] || v != v)) acc[i] = v;
        }
    }
    for (int64_t i = 0; i < inner; i++) out[o * inner + i] = (T)acc[i];
  }
}

#define REDUCE_VARIANT(ISA, ATTR)                                                                   \
  template <typename T>                                                                             \
  ATTR void Reduce##ISA(int op, const T* x, int64_t outer, int64_t size, int64_t inner, T* out) {   \
    ReduceBody<T>(op, x, outer, size, inner, out);                                                  \
  }
REDUCE_VARIANT(Avx512, TARGET_AVX512)
REDUCE_VARIANT(Avx2, TARGET_AVX2)
REDUCE_VARIANT(Portable, )

template <typename T>
static void ReduceRows(int op, const T* x, int64_t outer, int64_t size, int64_t inner, T* out) {
  ISA_CALL(Reduce, op, x, outer, size, inner, out);
}

// First index of the max (op 0) or min (op 1) along the middle axis; a NaN wins, as in PyTorch.
template <typename T>
static void ArgReduceRows(int op, const T* x, int64_t outer, int64_t size, int64_t inner, int32_t* out) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const T* b = x + o * size * inner + i;
      T best = b[0];
      int32_t bi = 0;
      if (best == best)
        for (int64_t k = 1; k < size; k++) {
          T v = b[k * inner];
          if (v != v) { bi = (int32_t)k; break; }
          if (op == 0 ? v > best : v < best) { best = v; bi = (int32_t)k; }
        }
      out[o * inner + i] = bi;
    }
}


// Rows of the outer axis are independent: ranges of them go to the threads.
template <typename T>
void Reduce(int op, const T* x, int64_t outer, int64_t size, int64_t inner, T* out) {
  ParallelFor(outer, (double)size * inner, [&](int64_t lo, int64_t hi) { ReduceRows<T>(op, x + lo * size * inner, hi - lo, size, inner, out + lo * inner); });
}

template <typename T>
void ArgReduce(int op, const T* x, int64_t outer, int64_t size, int64_t inner, int32_t* out) {
  ParallelFor(outer, (double)size * inner, [&](int64_t lo, int64_t hi) { ArgReduceRows<T>(op, x + lo * size * inner, hi - lo, size, inner, out + lo * inner); });
}

#define INSTANTIATE(T)                                                                 \
  template void Reduce<T>(int, const T*, int64_t, int64_t, int64_t, T*);             \
  template void ArgReduce<T>(int, const T*, int64_t, int64_t, int64_t, int32_t*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
