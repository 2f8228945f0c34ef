// Optimizer updates in place, each element in double with the js backend's expression order.
#include "base.h"
#include "kernels.h"
#include "threads.h"

namespace nabla {

// One Adam / AdamW update in place, each element in double with the js backend's expression order (no
// FMA contraction), so both backends give the same bits. The loops are compiled per ISA: the compiler
// vectorizes them (8 doubles per AVX-512 sqrt/div; IEEE sqrt and division round the same in every lane).

template <typename T>
static inline __attribute__((always_inline)) NO_CONTRACT void AdamRange(T* th, const T* gr, T* m, T* v, T* vmax, int64_t lo, int64_t hi,
                                                                    const AdamHyper& h) {
  const double bc1 = 1 - std::pow(h.b1, h.step), bc2 = 1 - std::pow(h.b2, h.step);
  const double stepSize = h.lr / bc1, bc2Sqrt = std::sqrt(bc2), decay = 1 - h.lr * h.wd;
  const double b1 = h.b1, b2 = h.b2, c1 = 1 - h.b1, c2 = 1 - h.b2, eps = h.eps, wd = h.wd, sign = h.maximize ? -1.0 : 1.0;
  // the branches are hoisted out of the loops so that each loop is straight-line code the compiler vectorizes
  if (h.decoupled)
    for (int64_t i = lo; i < hi; i++) th[i] = (T)(th[i] * decay);
  auto update = [&](auto amsgrad, auto l2) {
    for (int64_t i = lo; i < hi; i++) {
      double d = sign * (double)gr[i]; // ±1 · g is exact
      if (l2) d = d + wd * th[i];
      const T mi = (T)(m[i] * b1 + c1 * d), vi = (T)(v[i] * b2 + c2 * d * d);
      m[i] = mi;
      v[i] = vi;
      T vm = vi;
      if (amsgrad) vmax[i] = vm = (vmax[i] > vi) | (vmax[i] != vmax[i]) ? vmax[i] : vi; // Math.max: NaN if either is NaN
      const double denom = std::sqrt((double)vm) / bc2Sqrt + eps;
      th[i] = (T)(th[i] + -stepSize * (mi / denom));
    }
  };
  const bool l2 = !h.decoupled && wd != 0;
  if (vmax) l2 ? update(std::true_type(), std::true_type()) : update(std::true_type(), std::false_type());
  else l2 ? update(std::false_type(), std::true_type()) : update(std::false_type(), std::false_type());
}

// One SGD update in place (momentum buffer when momentum ≠ 0), each element in double with the js
// backend's expression order and no FMA contraction, so both backends give the same bits.

template <typename T>
static inline __attribute__((always_inline)) NO_CONTRACT void SgdRange(T* th, const T* gr, T* buf, int64_t lo, int64_t hi, const SgdHyper& h) {
  const double sign = h.maximize ? -1.0 : 1.0, wd = h.wd, mu = h.mu, c = 1 - h.dampening, lr = h.lr;
  const bool momentum = h.mu != 0 && buf;
  for (int64_t i = lo; i < hi; i++) {
    double d = sign * (double)gr[i];
    if (wd != 0) d = d + wd * th[i];
    if (momentum) {
      const T bi = (T)(h.first ? d : mu * buf[i] + c * d);
      buf[i] = bi;
      d = h.nesterov ? d + mu * bi : (double)bi;
    }
    th[i] = (T)(th[i] + -lr * d);
  }
}

#define OPTIM_VARIANT(ISA, ATTR)                                                                                          \
  template <typename T>                                                                                                  \
  ATTR NO_CONTRACT void AdamRange##ISA(T* th, const T* gr, T* m, T* v, T* vmax, int64_t lo, int64_t hi, const AdamHyper& h) { \
    AdamRange<T>(th, gr, m, v, vmax, lo, hi, h);                                                                         \
  }                                                                                                                      \
  template <typename T>                                                                                                  \
  ATTR NO_CONTRACT void SgdRange##ISA(T* th, const T* gr, T* buf, int64_t lo, int64_t hi, const SgdHyper& h) {            \
    SgdRange<T>(th, gr, buf, lo, hi, h);                                                                                 \
  }
OPTIM_VARIANT(Avx512, TARGET_AVX512)
OPTIM_VARIANT(Avx2, TARGET_AVX2)
OPTIM_VARIANT(Portable, )

template <typename T>
void AdamUpdate(T* th, const T* gr, T* m, T* v, T* vmax, int64_t n, const AdamHyper& h) {
  ParallelFor(n, 20, [&](int64_t lo, int64_t hi) { ISA_CALL(AdamRange, th, gr, m, v, vmax, lo, hi, h); });
}

template <typename T>
void SgdUpdate(T* th, const T* gr, T* buf, int64_t n, const SgdHyper& h) {
  ParallelFor(n, 1, [&](int64_t lo, int64_t hi) { ISA_CALL(SgdRange, th, gr, buf, lo, hi, h); });
}

#define INSTANTIATE(T)                                                                   \
  template void AdamUpdate<T>(T*, const T*, T*, T*, T*, int64_t, const AdamHyper&);   \
  template void SgdUpdate<T>(T*, const T*, T*, int64_t, const SgdHyper&);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
