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
      if (amsgrad) vmax[i] = vm = ((vmax[i] > vi) | (vmax[i] != vmax[i])) ? vmax[i] : vi; // Math.max: NaN if either is NaN
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

// The other optimizers, written as their js references (backend/js/optim.ts) read: each element in double,
// every state value stored in T and read back, no FMA contraction — the same bits on both backends.
template <typename T>
static NO_CONTRACT void RmspropRange(T* th, const T* gr, T* v, T* ga, T* buf, int64_t lo, int64_t hi, const RmspropHyper& h) {
  const double sign = h.maximize != 0 ? -1.0 : 1.0, c = 1 - h.alpha;
  for (int64_t i = lo; i < hi; i++) {
    double d = sign * (double)gr[i];
    if (h.weightDecay != 0) d = d + h.weightDecay * th[i];
    v[i] = (T)(v[i] * h.alpha + c * d * d);
    double avg;
    if (ga) {
      ga[i] = (T)(ga[i] * h.alpha + c * d);
      avg = std::sqrt(v[i] + -1 * (double)ga[i] * ga[i]) + h.eps;
    } else
      avg = std::sqrt((double)v[i]) + h.eps;
    if (buf) {
      buf[i] = (T)(buf[i] * h.momentum + d / avg);
      th[i] = (T)(th[i] + -h.lr * buf[i]);
    } else
      th[i] = (T)(th[i] + -h.lr * (d / avg));
  }
}

template <typename T>
static NO_CONTRACT void AdagradRange(T* th, const T* gr, T* s, int64_t lo, int64_t hi, const AdagradHyper& h) {
  const double sign = h.maximize != 0 ? -1.0 : 1.0;
  for (int64_t i = lo; i < hi; i++) {
    double d = sign * (double)gr[i];
    if (h.weightDecay != 0) d = d + h.weightDecay * th[i];
    s[i] = (T)(s[i] + d * d);
    th[i] = (T)(th[i] + -h.clr * (d / (std::sqrt((double)s[i]) + h.eps)));
  }
}

template <typename T>
static NO_CONTRACT void AdadeltaRange(T* th, const T* gr, T* v, T* u, int64_t lo, int64_t hi, const AdadeltaHyper& h) {
  const double sign = h.maximize != 0 ? -1.0 : 1.0, c = 1 - h.rho;
  for (int64_t i = lo; i < hi; i++) {
    double d = sign * (double)gr[i];
    if (h.weightDecay != 0) d = d + h.weightDecay * th[i];
    v[i] = (T)(v[i] * h.rho + c * d * d);
    const double delta = (std::sqrt(u[i] + h.eps) / std::sqrt(v[i] + h.eps)) * d;
    u[i] = (T)(u[i] * h.rho + c * delta * delta);
    th[i] = (T)(th[i] + -h.lr * delta);
  }
}

template <typename T>
static NO_CONTRACT void NadamRange(T* th, const T* gr, T* m, T* v, int64_t lo, int64_t hi, const NadamHyper& h) {
  const double c1b = 1 - h.beta1, c2b = 1 - h.beta2;
  for (int64_t i = lo; i < hi; i++) {
    double d = gr[i];
    if (h.weightDecay != 0) d = d + h.weightDecay * th[i];
    m[i] = (T)(m[i] * h.beta1 + c1b * d);
    v[i] = (T)(v[i] * h.beta2 + c2b * d * d);
    const double denom = std::sqrt(v[i] / h.bc2) + h.eps;
    th[i] = (T)(th[i] + h.c1 * (d / denom));
    th[i] = (T)(th[i] + h.c2 * (m[i] / denom));
  }
}

template <typename T>
static NO_CONTRACT void AdamaxRange(T* th, const T* gr, T* m, T* u, int64_t lo, int64_t hi, const AdamaxHyper& h) {
  const double sign = h.maximize != 0 ? -1.0 : 1.0, c = 1 - h.beta1;
  for (int64_t i = lo; i < hi; i++) {
    double d = sign * (double)gr[i];
    if (h.weightDecay != 0) d = d + h.weightDecay * th[i];
    m[i] = (T)(m[i] * h.beta1 + c * d);
    const double a = u[i] * h.beta2, b = std::fabs(d) + h.eps;
    u[i] = (T)(a != a || b != b ? NAN : a > b ? a : b);  // Math.max: NaN if either is NaN
    th[i] = (T)(th[i] + -h.clr * ((double)m[i] / u[i]));
  }
}

template <typename T>
void RmspropUpdate(T* th, const T* gr, T* v, T* ga, T* buf, int64_t n, const RmspropHyper& h) {
  ParallelFor(n, 10, [&](int64_t lo, int64_t hi) { RmspropRange(th, gr, v, ga, buf, lo, hi, h); });
}
template <typename T>
void AdagradUpdate(T* th, const T* gr, T* s, int64_t n, const AdagradHyper& h) {
  ParallelFor(n, 10, [&](int64_t lo, int64_t hi) { AdagradRange(th, gr, s, lo, hi, h); });
}
template <typename T>
void AdadeltaUpdate(T* th, const T* gr, T* v, T* u, int64_t n, const AdadeltaHyper& h) {
  ParallelFor(n, 20, [&](int64_t lo, int64_t hi) { AdadeltaRange(th, gr, v, u, lo, hi, h); });
}
template <typename T>
void NadamUpdate(T* th, const T* gr, T* m, T* v, int64_t n, const NadamHyper& h) {
  ParallelFor(n, 20, [&](int64_t lo, int64_t hi) { NadamRange(th, gr, m, v, lo, hi, h); });
}
template <typename T>
void AdamaxUpdate(T* th, const T* gr, T* m, T* u, int64_t n, const AdamaxHyper& h) {
  ParallelFor(n, 10, [&](int64_t lo, int64_t hi) { AdamaxRange(th, gr, m, u, lo, hi, h); });
}

#define INSTANTIATE(T)                                                                         \
  template void AdamUpdate<T>(T*, const T*, T*, T*, T*, int64_t, const AdamHyper&);         \
  template void SgdUpdate<T>(T*, const T*, T*, int64_t, const SgdHyper&);                   \
  template void RmspropUpdate<T>(T*, const T*, T*, T*, T*, int64_t, const RmspropHyper&);   \
  template void AdagradUpdate<T>(T*, const T*, T*, int64_t, const AdagradHyper&);           \
  template void AdadeltaUpdate<T>(T*, const T*, T*, T*, int64_t, const AdadeltaHyper&);     \
  template void NadamUpdate<T>(T*, const T*, T*, T*, int64_t, const NadamHyper&);           \
  template void AdamaxUpdate<T>(T*, const T*, T*, T*, int64_t, const AdamaxHyper&);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
