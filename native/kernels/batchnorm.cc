// Batch normalization over x viewed as [n, c, inner]: statistics, the per-channel affine (with a fused
// ReLU) and the backward; every per-channel quantity is double and channels are the parallel tasks.
#include "accumulate.h"
#include "base.h"
#include "kernels.h"
#include "threads.h"

namespace nabla {

// The per-channel work of the batch-norm kernels below, compiled per ISA (BnChannel##ISA): the double
// accumulations convert and add 8 lanes per AVX-512 instruction instead of 2. Each channel's sums keep
// the same 8 lanes on every ISA.
// kind 0: mean and biased variance (two passes: the mean, then the centred squares).
// kind 1: out = x·scale[ch] + shift[ch].
// kind 2: backward of y = γ·x̂ + β with x̂ = (x − μ)·invstd: Σgy and Σgy·x̂ (the gradients of β and γ), and,
// when gx is given, gx = scale·(gy − Σgy/M − x̂·Σgy·x̂/M) with batch statistics (training) or scale·gy with
// fixed ones, where scale = γ·invstd.
struct BnArgs {
  int64_t n, c, inner;
  double *mean, *var;                                // kind 0 (out)
  const double *scale, *shift;                       // kind 1; kind 2 uses scale
  const double *invstd, *cmean;                      // kind 2
  bool training;                                     // kind 2
  double *sumG, *sumGX;                              // kind 2 (out)
  bool relu;                                         // kind 1: max(out, 0) (NaN stays NaN)
  const void* reluOut;                               // kind 2: mask gy by reluOut > 0 (a fused ReLU's backward)
};

template <typename T>
static inline __attribute__((always_inline)) void BnChannel(int kind, const T* x, const T* gy, T* out, const BnArgs& a, int64_t ch) {
  const int64_t n = a.n, c = a.c, inner = a.inner;
  const double count = (double)(n * inner);
  if (kind == 0) {
    Sum8 s, q;
    for (int64_t b = 0; b < n; b++) Accumulate(s, x + (b * c + ch) * inner, inner, [](auto v) { return v; });
    const double mu = s.Total() / count;
    for (int64_t b = 0; b < n; b++) Accumulate(q, x + (b * c + ch) * inner, inner, [mu](auto v) { return (v - mu) * (v - mu); });
    a.mean[ch] = mu;
    a.var[ch] = q.Total() / count;
  } else if (kind == 1) {
    const T sc = (T)a.scale[ch], sh = (T)a.shift[ch];
    for (int64_t k = 0; k < n; k++) {
      const T* __restrict p = x + (k * c + ch) * inner;
      T* __restrict o = out + (k * c + ch) * inner;
      if (a.relu)
        for (int64_t i = 0; i < inner; i++) {
          const T v = p[i] * sc + sh;
          o[i] = v > 0 ? v : (v == v ? T(0) : v);
        }
      else
        for (int64_t i = 0; i < inner; i++) o[i] = p[i] * sc + sh;
    }
  } else {
    const double mu = a.cmean[ch], is = a.invstd[ch];
    const T* mask = static_cast<const T*>(a.reluOut);
    Sum8 s1, s2;
    const d8 zero = d8{}, one = zero + 1;
    for (int64_t b = 0; b < n; b++) {
      const T* __restrict g = gy + (b * c + ch) * inner;
      const T* __restrict p = x + (b * c + ch) * inner;
      const T* __restrict y = mask ? mask + (b * c + ch) * inner : nullptr;
      int64_t i = 0;
      for (; i + 8 <= inner; i += 8) {
        d8 gv = Load8(g + i);
        if (y) gv = gv * (Load8(y + i) > zero ? one : zero);
        s1.a += gv;
        s2.a += gv * (Load8(p + i) - mu);
      }
      for (int j = 0; i < inner; i++, j++) {
        const double gv = y ? (double)g[i] * (y[i] > 0 ? 1.0 : 0.0) : (double)g[i];
        s1.a[j] += gv;
        s2.a[j] += gv * ((double)p[i] - mu);
      }
    }
    const double sg = s1.Total(), sgx = s2.Total() * is;
    a.sumG[ch] = sg;
    a.sumGX[ch] = sgx;
    if (!out) return;
    const double sc = a.scale[ch];
    // training: gx = sc·gy − sc·mean(gy) − (x − μ)·sc·is·mean(gy·x̂), as α·gy + β·x + δ per element
    const double k = a.training ? sc * is * sgx / count : 0;
    const T al = (T)sc, be = (T)(-k), de = a.training ? (T)(k * mu - sc * sg / count) : T(0);
    for (int64_t b = 0; b < n; b++) {
      const T* __restrict g = gy + (b * c + ch) * inner;
      const T* __restrict p = x + (b * c + ch) * inner;
      const T* __restrict y = mask ? mask + (b * c + ch) * inner : nullptr;
      T* __restrict o = out + (b * c + ch) * inner;
      if (y && a.training)
        for (int64_t i = 0; i < inner; i++) o[i] = al * (g[i] * (T)(y[i] > 0)) + be * p[i] + de;
      else if (y)
        for (int64_t i = 0; i < inner; i++) o[i] = al * (g[i] * (T)(y[i] > 0));
      else if (a.training)
        for (int64_t i = 0; i < inner; i++) o[i] = al * g[i] + be * p[i] + de;
      else
        for (int64_t i = 0; i < inner; i++) o[i] = al * g[i];
    }
  }
}

#define BN_VARIANT(ISA, ATTR)                                                                                 \
  template <typename T>                                                                                       \
  ATTR void BnChannel##ISA(int kind, const T* x, const T* gy, T* out, const BnArgs& a, int64_t lo, int64_t hi) { \
    for (int64_t ch = lo; ch < hi; ch++) BnChannel<T>(kind, x, gy, out, a, ch);                               \
  }
BN_VARIANT(Avx512, TARGET_AVX512)
BN_VARIANT(Avx2, TARGET_AVX2)
BN_VARIANT(Portable, )

template <typename T>
static void BnChannels(int kind, const T* x, const T* gy, T* out, const BnArgs& a) {
  ParallelFor(a.c, (double)a.n * a.inner, [&](int64_t lo, int64_t hi) { ISA_CALL(BnChannel, kind, x, gy, out, a, lo, hi); });
}

template <typename T>
void BatchNormStats(const T* x, int64_t n, int64_t c, int64_t inner, double* mean, double* var) {
  BnArgs a{n, c, inner, mean, var, nullptr, nullptr, nullptr, nullptr, false, nullptr, nullptr, false, nullptr};
  BnChannels<T>(0, x, nullptr, nullptr, a);
}

template <typename T>
void ChannelAffine(const T* x, int64_t n, int64_t c, int64_t inner, const double* scale, const double* shift, T* out, bool relu) {
  BnArgs a{n, c, inner, nullptr, nullptr, scale, shift, nullptr, nullptr, false, nullptr, nullptr, relu, nullptr};
  BnChannels<T>(1, x, nullptr, out, a);
}

template <typename T>
void BatchNormBackward(const T* gy, const T* x, int64_t n, int64_t c, int64_t inner, const double* mean, const double* invstd,
                              const double* scale, bool training, T* gx, double* sumG, double* sumGX, const T* reluOut) {
  BnArgs a{n, c, inner, nullptr, nullptr, scale, nullptr, invstd, mean, training, sumG, sumGX, false, reluOut};
  BnChannels<T>(2, x, gy, gx, a);
}

#define INSTANTIATE(T)                                                                                                   \
  template void BatchNormStats<T>(const T*, int64_t, int64_t, int64_t, double*, double*);                             \
  template void ChannelAffine<T>(const T*, int64_t, int64_t, int64_t, const double*, const double*, T*, bool);        \
  template void BatchNormBackward<T>(const T*, const T*, int64_t, int64_t, int64_t, const double*, const double*, const double*, bool, T*, \
                                     double*, double*, const T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
