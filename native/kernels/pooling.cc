// Max pooling with the index of each window's winner (the backward scatters through it).
#include <algorithm>
#include <atomic>
#include <cstring>

#include "base.h"
#include "kernels.h"
#include "threads.h"

namespace nabla {

// Max pooling: for each output, the flat index (iy·w + ix) of the first largest input in its window (when
// idx is given) and that input (when vals is); the first NaN wins (NaN propagates, as in PyTorch). Windows always hold
// at least one input (padding is at most half the kernel).
template <typename T>
static inline void TakeIfBetter(T v, int32_t at, T* best, int32_t* bi) {
  const bool take = (v > *best) | ((v != v) & (*best == *best)); // NaN wins once
  *best = take ? v : *best;
  *bi = take ? at : *bi;
}

// The even (P = 0) or odd (P = 1) lanes of the 16-byte vectors lo:hi, in order (GCC and clang spell the
// shuffle differently; clang's takes constant lane numbers).
template <int P, typename V>
static inline V Lanes(V lo, V hi) {
#if defined(__clang__)
  if constexpr (sizeof(lo[0]) == 4) return __builtin_shufflevector(lo, hi, P, 2 + P, 4 + P, 6 + P);
  else return __builtin_shufflevector(lo, hi, P, 2 + P);
#else
  typedef typename std::conditional<sizeof(lo[0]) == 4, int32_t, int64_t>::type I;
  typedef I VI __attribute__((vector_size(16)));
  VI sel;
  for (int i = 0; i < (int)(16 / sizeof(lo[0])); i++) sel[i] = 2 * i + P;
  return __builtin_shuffle(lo, hi, sel);
#endif
}

// 2×2 / stride-2 windows of two input rows, one 16-byte vector of outputs at a time (4 floats or 2
// doubles: the even/odd split is a single shufps / unpck on the baseline ISA) with vector compares and
// selects: on random data a branch per comparison mispredicts half the time. Returns the number of
// outputs done; the caller finishes the row. `end` is the end of the input. Without `io` (kIdx false)
// only the values are kept.
template <bool kIdx, typename T>
static inline int MaxPoolPairsVec(const T* r0, const T* r1, const T* end, int32_t at0, int32_t at1, int ow, int32_t* io, T* vo) {
  constexpr int N = 16 / sizeof(T);
  typedef T V __attribute__((vector_size(16)));
  typedef typename std::conditional<sizeof(T) == 4, int32_t, int64_t>::type I;
  typedef I VI __attribute__((vector_size(16)));
  VI even;
  for (int i = 0; i < N; i++) even[i] = 2 * i;
  // n ≤ N outputs from ox on, from the rows at a0 / a1 (lanes past n are dropped)
  auto step = [&](const T* a0, const T* a1, int ox, int n) __attribute__((always_inline)) {
    V lo, hi;
    std::memcpy(&lo, a0, sizeof(V));
    std::memcpy(&hi, a0 + N, sizeof(V));
    V t0 = Lanes<0>(lo, hi), t1 = Lanes<1>(lo, hi);
    std::memcpy(&lo, a1, sizeof(V));
    std::memcpy(&hi, a1 + N, sizeof(V));
    V t2 = Lanes<0>(lo, hi), t3 = Lanes<1>(lo, hi);
    VI col = even + (I)(2 * ox);
    V b = t0;
    VI k = col + (I)at0;
    // taps in window order; a later tap wins only when strictly larger, or NaN over a non-NaN
    VI m = (t1 > b) | ((t1 != t1) & (b == b));
    b = m ? t1 : b;
    if (kIdx) k = m ? col + (I)(at0 + 1) : k;
    m = (t2 > b) | ((t2 != t2) & (b == b));
    b = m ? t2 : b;
    if (kIdx) k = m ? col + (I)at1 : k;
    m = (t3 > b) | ((t3 != t3) & (b == b));
    b = m ? t3 : b;
    if (kIdx) {
      k = m ? col + (I)(at1 + 1) : k;
      if (sizeof(I) == 4 && n == N) std::memcpy(io + ox, &k, sizeof(VI));
      else
        for (int i = 0; i < n; i++) io[ox + i] = (int32_t)k[i];
    }
    if (vo && n == N) std::memcpy(vo + ox, &b, sizeof(V));
    else if (vo)
      for (int i = 0; i < n; i++) vo[ox + i] = b[i];
  };
  int ox = 0;
  for (; ox + N <= ow; ox += N) step(r0 + 2 * ox, r1 + 2 * ox, ox, N);
  // the row's last outputs (LeNet's rows of 14 and 5) as one more vector, when its reads stay inside the
  // input (they run into the next row; the lanes past the row are dropped); else the caller finishes
  if (ox < ow && r1 + 2 * ox + 2 * N <= end) {
    step(r0 + 2 * ox, r1 + 2 * ox, ox, ow - ox);
    return ow;
  }
  return ox;
}

#if defined(__x86_64__) || defined(__i386__)
// The same 2×2 windows for float32 with AVX-512: 16 outputs per step from 32 inputs of each row
// (even/odd lanes split by one two-source permute), the row's last partial step under a lane mask, so
// rows of 5–14 outputs (LeNet, the BN net) run vector code too. Returns the outputs done (all of them).
TARGET_AVX512 static int MaxPoolPairsAvx512(const float* r0, const float* r1, int32_t at0, int32_t at1, int ow, int32_t* io, float* vo) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int ox = 0; ox < ow; ox += 16) {
    const int n = std::min(16, ow - ox);
    const __mmask16 mo = (__mmask16)((1u << n) - 1);
    // inputs 2·ox … 2·ox + 2n − 1 of each row: the first 16 and the next 16 under masks
    const int in = 2 * n;
    const __mmask16 m0 = (__mmask16)(in >= 16 ? 0xffffu : (1u << in) - 1), m1 = (__mmask16)(in <= 16 ? 0u : (1u << (in - 16)) - 1);
    const __m512 a0 = _mm512_maskz_loadu_ps(m0, r0 + 2 * ox), a1 = _mm512_maskz_loadu_ps(m1, r0 + 2 * ox + 16);
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, r1 + 2 * ox), b1 = _mm512_maskz_loadu_ps(m1, r1 + 2 * ox + 16);
    const __m512 t0 = _mm512_permutex2var_ps(a0, even, a1), t1 = _mm512_permutex2var_ps(a0, odd, a1);
    const __m512 t2 = _mm512_permutex2var_ps(b0, even, b1), t3 = _mm512_permutex2var_ps(b0, odd, b1);
    const __m512i col = _mm512_add_epi32(even, _mm512_set1_epi32(2 * ox));
    __m512 b = t0;
    __m512i k = _mm512_add_epi32(col, _mm512_set1_epi32(at0));
    // taps in window order; a later tap wins only when strictly larger, or NaN over a non-NaN (a loop,
    // not a lambda: GCC does not give lambdas the function's target attribute)
    const __m512 taps[3] = {t1, t2, t3};
    const int32_t ats[3] = {at0 + 1, at1, at1 + 1};
    for (int q = 0; q < 3; q++) {
      const __m512 t = taps[q];
      const __mmask16 m = _mm512_cmp_ps_mask(t, b, _CMP_GT_OQ) | (_mm512_cmp_ps_mask(t, t, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(b, b, _CMP_ORD_Q));
      b = _mm512_mask_blend_ps(m, b, t);
      k = _mm512_mask_blend_epi32(m, k, _mm512_add_epi32(col, _mm512_set1_epi32(ats[q])));
    }
    if (io) _mm512_mask_storeu_epi32(io + ox, mo, k);
    if (vo) _mm512_mask_storeu_ps(vo + ox, mo, b);
  }
  return ow;
}
#endif

template <typename T>
static inline int MaxPoolPairs(const T* r0, const T* r1, const T* end, int32_t at0, int32_t at1, int ow, int32_t* io, T* vo) {
#if defined(__x86_64__) || defined(__i386__)
  if (std::is_same<T, float>::value && isa == Isa::kAvx512)
    return MaxPoolPairsAvx512(reinterpret_cast<const float*>(r0), reinterpret_cast<const float*>(r1), at0, at1, ow, io, reinterpret_cast<float*>(vo));
#endif
  return io ? MaxPoolPairsVec<true>(r0, r1, end, at0, at1, ow, io, vo) : MaxPoolPairsVec<false>(r0, r1, end, at0, at1, ow, io, vo);
}

template <typename T>
void MaxPoolIndices(const T* x, const Geom& g, int32_t* idx, T* vals) {
  const int64_t plane = (int64_t)g.h * g.w, L = (int64_t)g.oh * g.ow;
  // 2×2 windows at stride 2 inside the plane (the common case): two input rows per output row.
  const bool pairs = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 &&
                     2 * g.oh <= g.h && 2 * g.ow <= g.w;
  // Otherwise one output row at a time, tap by tap (taps in window order, so the first maximum is kept),
  // with the output columns innermost: independent lanes, no loop-carried compare chain, no bounds tests.
  auto general = [&](int64_t p, T* bv, int32_t* bi) {
    const T* __restrict xp = x + p * plane;
    for (int oy = 0; oy < g.oh; oy++) {
      for (int ox = 0; ox < g.ow; ox++) bi[ox] = -1, bv[ox] = 0;
      for (int ki = 0; ki < g.kh; ki++) {
        int iy = oy * g.sh - g.ph + ki * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        for (int kj = 0; kj < g.kw; kj++) {
          int ix0 = kj * g.dw - g.pw, lo, hi;
          ValidRange(ix0, g.sw, g.w, g.ow, &lo, &hi);
          const int base = iy * g.w + ix0, sw = g.sw;
          for (int ox = lo; ox < hi; ox++) {
            const int at = base + ox * sw;
            const T v = xp[at], b = bv[ox];
            const bool take = (bi[ox] < 0) | (v > b) | ((v != v) & (b == b));
            bi[ox] = take ? at : bi[ox];
            bv[ox] = take ? v : b;
          }
        }
      }
      if (idx) {
        int32_t* __restrict best = idx + p * L + (int64_t)oy * g.ow;
        for (int ox = 0; ox < g.ow; ox++) best[ox] = bi[ox] < 0 ? 0 : bi[ox];
      }
      if (vals) {
        T* __restrict vo = vals + p * L + (int64_t)oy * g.ow;
        for (int ox = 0; ox < g.ow; ox++) vo[ox] = bi[ox] < 0 ? xp[0] : bv[ox];
      }
    }
  };
  ParallelFor((int64_t)g.n, (double)L * g.kh * g.kw, [&](int64_t lo, int64_t hi) {
    std::vector<T> bv(pairs ? 0 : g.ow);
    std::vector<int32_t> bi(pairs ? 0 : g.ow);
    for (int64_t p = lo; p < hi; p++) {
      if (!pairs) {
        general(p, bv.data(), bi.data());
        continue;
      }
      const T* xp = x + p * plane;
      for (int oy = 0; oy < g.oh; oy++) {
        const T* __restrict r0 = xp + (int64_t)2 * oy * g.w;
        const T* __restrict r1 = r0 + g.w;
        int32_t* __restrict io = idx ? idx + p * L + (int64_t)oy * g.ow : nullptr;
        const int32_t at0 = 2 * oy * g.w, at1 = at0 + g.w;
        int ox = MaxPoolPairs(r0, r1, x + g.n * plane, at0, at1, g.ow, io, vals ? vals + p * L + (int64_t)oy * g.ow : nullptr);
        for (; ox < g.ow; ox++) {
          T b = r0[2 * ox];
          int32_t k = at0 + 2 * ox;
          TakeIfBetter(r0[2 * ox + 1], at0 + 2 * ox + 1, &b, &k);
          TakeIfBetter(r1[2 * ox], at1 + 2 * ox, &b, &k);
          TakeIfBetter(r1[2 * ox + 1], at1 + 2 * ox + 1, &b, &k);
          if (io) io[ox] = k;
          if (vals) vals[p * L + (int64_t)oy * g.ow + ox] = b;
        }
      }
    }
  });
}

// Convolution → max pooling (→ ReLU) for a forward that records no gradient: the convolution's output is a
// per-thread scratch that never reaches the caller, filled a chunk of samples at a time (about 256 KB, so
// the pooling reads it from cache) and pooled into out; with `relu`, max(·, 0) of each pooled value (NaN
// stays NaN), as ReLU before the pooling would give (max commutes with the monotone ReLU).
// With `inPad` [top, bottom, left, right], x is the unpadded input and each chunk is first copied into a
// zero-filled scratch of the padded size (what a constant pad → conv computes, bit for bit).
// With several threads and at least two samples per thread, the chunks are the parallel tasks (their
// count a multiple of the threads, so that the shares are even): each runs pad, convolution, pooling and
// ReLU on its own thread and scratch in one generation of the pool, the convolution's own splitting then
// running in place. The convolution's bits do not depend on how the batch is cut (the fusion tests check
// them against the unfused ops), so neither do the results.
template <typename T>
ConvAlgo ConvMaxPool(const T* x, const T* w, const ConvGeom& cg, const T* bias, const Geom& pool, bool relu, T* out, const int32_t* inPad) {
  const Geom& g = cg.g;
  const int t = inPad ? inPad[0] : 0, l = inPad ? inPad[2] : 0;
  const int h0 = inPad ? g.h - inPad[0] - inPad[1] : g.h, w0 = inPad ? g.w - inPad[2] - inPad[3] : g.w;
  const int64_t inSample = (int64_t)g.c * h0 * w0, convSample = (int64_t)cg.o * g.oh * g.ow, outSample = (int64_t)cg.o * pool.oh * pool.ow;
  const int threads = ThreadCount();
  const bool perThread = threads > 1 && g.n >= 2 * threads;
  const int64_t fit = std::max<int64_t>(1, (int64_t)(256 * 1024 / sizeof(T)) / std::max<int64_t>(1, convSample));
  int64_t chunks = (g.n + fit - 1) / fit;
  if (perThread) chunks = std::min<int64_t>(g.n, (chunks + threads - 1) / threads * threads);
  else chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, g.n / (2 * (int64_t)threads)));
  const int chunk = (int)((g.n + chunks - 1) / chunks);
  // chunk 0's path (the choice depends on the layer, not the batch, but for Winograd's finiteness check)
  ConvAlgo algo = ConvAlgo::kIm2col;
  auto run = [&](int c) {
    const int b0 = c * chunk, cnt = std::min(chunk, g.n - b0);
    T* y = Scratch<T, 4>((size_t)(chunk * convSample));
    ConvGeom part = cg;
    part.g.n = cnt;
    const T* xs = x + b0 * inSample;
    if (inPad) {
      const int64_t plane = (int64_t)g.h * g.w;
      T* xp = Scratch<T, 6>((size_t)(chunk * g.c * plane));
      std::fill(xp, xp + cnt * g.c * plane, T(0));
      for (int64_t p = 0; p < (int64_t)cnt * g.c; p++)
        for (int r = 0; r < h0; r++) std::memcpy(xp + p * plane + (int64_t)(r + t) * g.w + l, xs + (p * h0 + r) * w0, sizeof(T) * w0);
      xs = xp;
    }
    const ConvAlgo a = ConvForward<T>(xs, w, part, y, bias);
    if (c == 0) algo = a;
    Geom pg = pool;
    pg.n = cnt * cg.o;
    T* o = out + b0 * outSample;
    MaxPoolIndices<T>(y, pg, nullptr, o);
    if (relu)
      for (int64_t i = 0; i < cnt * outSample; i++) o[i] = o[i] > 0 ? o[i] : (o[i] == o[i] ? T(0) : o[i]);
  };
  const int count = (int)((g.n + chunk - 1) / chunk);
  if (perThread) RunTasks(count, run);
  else
    for (int c = 0; c < count; c++) run(c);
  return algo;
}

#define INSTANTIATE(T)                                                        \
  template void MaxPoolIndices<T>(const T*, const Geom&, int32_t*, T*);       \
  template ConvAlgo ConvMaxPool<T>(const T*, const T*, const ConvGeom&, const T*, const Geom&, bool, T*, const int32_t*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
