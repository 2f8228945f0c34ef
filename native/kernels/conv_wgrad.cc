// The direct weight gradient of stride-1 convolutions with few weights per output channel.
#include "base.h"
#include "conv.h"

namespace nabla {

// The weight gradient of a stride-1 ungrouped convolution with few weights per output channel (LeNet,
// the BN net, ResNet's first layer) as inner products without im2col:
//   gw[o][c, ky, kx] = Σ_samples Σ_q gy[o][q] · xk[c, kx][q + ky·dh·ow],   q = y·ow + x over the outputs,
// where xk[c, kx] is the zero-padded input plane of channel c shifted left by kx·dw and cut to ow columns
// (Hp rows of ow): every tap row is then a shifted view of one of kw copies, and gy is read in place. A
// block of RO output channels × RT (channel, tap) pairs keeps RO·RT vector accumulators, loaded from and
// stored to per-thread lane partials once per group of samples. Every product is a term of the true sum
// (padding contributes 0·gy, as im2col's zeros do).
template <typename T, int RO, int RT>
static inline __attribute__((always_inline)) void WgradBlocks(const T* gy, const T* tails, const T* xk, int S, int O, int J, int taps, int kw,
                                                            int64_t P, int64_t planeK, int64_t xStride, const int64_t* rowOff, T* vacc) {
  typedef typename Vec<T>::type V;
  constexpr int L = Vec<T>::lanes;
  const int64_t Pv = P / L * L; // whole vectors of gy; the rest of each row is read from `tails`
  const T tailLen = T(P - Pv);
  V lane;
  for (int l = 0; l < L; l++) lane[l] = T(l);
  for (int o0 = 0; o0 < O; o0 += RO)
    for (int j0 = 0; j0 < J; j0 += RT) {
      int oc[RO];
      int64_t bo[RT];
      // rows past the edge repeat the last one; their sums are computed and dropped
      for (int r = 0; r < RO; r++) oc[r] = std::min(o0 + r, O - 1);
      for (int t = 0; t < RT; t++) {
        const int j = std::min(j0 + t, J - 1), c = j / taps, tap = j % taps;
        bo[t] = ((int64_t)c * kw + tap % kw) * planeK + rowOff[tap / kw];
      }
      V s[RO][RT];
      for (int r = 0; r < RO; r++)
        for (int t = 0; t < RT; t++) std::memcpy(&s[r][t], vacc + ((int64_t)oc[r] * J + std::min(j0 + t, J - 1)) * L, sizeof(V));
      for (int smp = 0; smp < S; smp++) {
        const T* xs = xk + smp * xStride;
        auto step = [&](const T* const* ar, int64_t q, auto masked) __attribute__((always_inline)) {
          V a[RO], b[RT];
          for (int r = 0; r < RO; r++) std::memcpy(&a[r], ar[r], sizeof(V));
          for (int t = 0; t < RT; t++) std::memcpy(&b[t], xs + bo[t] + q, sizeof(V));
          // past P the tails are 0 and x reads real inputs of later rows: 0·Inf would be NaN, so those
          // lanes of x are zeroed too
          if (masked)
            for (int t = 0; t < RT; t++) b[t] = lane < tailLen ? b[t] : V{};
          for (int r = 0; r < RO; r++)
            for (int t = 0; t < RT; t++) s[r][t] += a[r] * b[t];
        };
        const T* ar[RO];
        for (int64_t q = 0; q < Pv; q += L) {
          for (int r = 0; r < RO; r++) ar[r] = gy + ((int64_t)smp * O + oc[r]) * P + q;
          step(ar, q, std::false_type());
        }
        if (Pv < P) {
          for (int r = 0; r < RO; r++) ar[r] = tails + ((int64_t)smp * O + oc[r]) * L;
          step(ar, Pv, std::true_type());
        }
      }
      for (int r = 0; r < RO && o0 + r < O; r++)
        for (int t = 0; t < RT && j0 + t < J; t++) std::memcpy(vacc + ((int64_t)(o0 + r) * J + j0 + t) * L, &s[r][t], sizeof(V));
    }
}

// Copy rows of n elements (n of a few dozen: a loop the compiler vectorizes costs less than a memcpy call,
// and GCC would turn the loop back into one unless told not to: NO_MEMCPY_IDIOM).
template <typename T>
static inline __attribute__((always_inline)) NO_MEMCPY_IDIOM void CopyRows(T* __restrict dst, int64_t dstStride, const T* __restrict src,
                                                                          int64_t srcStride, int rows, int n) {
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < n; i++) dst[r * dstStride + i] = src[r * srcStride + i];
}

// One group of samples: build each sample's kw shifted copies of its input planes (their zero padding
// and margins were cleared once and are never written) and the zero-padded tails of its gy rows, then
// run every block over the group.
template <typename T, int RO, int RT>
static inline __attribute__((always_inline)) NO_MEMCPY_IDIOM void WgradGroup(const T* x, const T* gy, const Geom& g, int O, int b0, int cnt,
                                                                           T* xk, T* tails, int64_t planeK, int64_t xStride,
                                                                           const int64_t* rowOff, T* vacc) {
  constexpr int L = Vec<T>::lanes;
  const int64_t P = (int64_t)g.oh * g.ow, Pv = P / L * L;
  for (int s = 0; s < cnt; s++) {
    const T* xs = x + (int64_t)(b0 + s) * g.c * g.h * g.w;
    for (int c = 0; c < g.c; c++)
      for (int kx = 0; kx < g.kw; kx++) {
        // xk row y + ph, column x holds input column x + kx·dw − pw: the columns that fall inside [0, w)
        const int shift = kx * g.dw - g.pw;
        const int lo = std::max(0, -shift), hi = std::min(g.ow, g.w - shift);
        if (hi > lo)
          CopyRows(xk + s * xStride + ((int64_t)c * g.kw + kx) * planeK + (int64_t)g.ph * g.ow + lo, g.ow,
                   xs + (int64_t)c * g.h * g.w + lo + shift, g.w, g.h, hi - lo);
      }
    if (Pv < P)
      for (int o = 0; o < O; o++) CopyRows(tails + ((int64_t)s * O + o) * L, 0, gy + ((int64_t)(b0 + s) * O + o) * P + Pv, 0, 1, (int)(P - Pv));
  }
  WgradBlocks<T, RO, RT>(gy + (int64_t)b0 * O * P, tails, xk, cnt, O, g.c * g.kh * g.kw, g.kh * g.kw, g.kw, P, planeK, xStride, rowOff, vacc);
}

// Three block shapes (RO × RT) per ISA (AVX-512, AVX2, portable) of about the same register count; the
// one that wastes least on partial blocks is chosen per layer (LeNet conv1, 6 × 25 weights: 6 × 4 instead
// of 4 × 6; BN-net conv1, 16 × 9: 8 × 3).
// In WebAssembly (16 SIMD128 registers) blocks of 2 or 3 accumulators: with 2 × 2 = 16 vectors of 4 lanes the
// sums spill (LeNet-5 training about 5 % faster with these).
#if defined(__wasm__)
#define kPortableWgrad {{1, 2}, {2, 1}, {1, 3}}
#else
#define kPortableWgrad {{2, 2}, {2, 2}, {2, 2}}
#endif
constexpr int kWgradShapes[3][3][2] = {{{4, 6}, {6, 4}, {8, 3}}, {{2, 3}, {3, 2}, {2, 3}}, kPortableWgrad};
#define WGRAD_VARIANT(ISA, ATTR, K)                                                                                             \
  template <typename T>                                                                                                        \
  ATTR NO_MEMCPY_IDIOM void Wgrad##ISA(const T* x, const T* gy, const Geom& g, int O, int b0, int cnt, T* xk, T* tails,          \
                                       int64_t planeK, int64_t xStride, const int64_t* rowOff, T* vacc, int shape) {           \
    constexpr auto& s = kWgradShapes[K];                                                                                       \
    if (shape == 1) WgradGroup<T, s[1][0], s[1][1]>(x, gy, g, O, b0, cnt, xk, tails, planeK, xStride, rowOff, vacc);          \
    else if (shape == 2) WgradGroup<T, s[2][0], s[2][1]>(x, gy, g, O, b0, cnt, xk, tails, planeK, xStride, rowOff, vacc);     \
    else WgradGroup<T, s[0][0], s[0][1]>(x, gy, g, O, b0, cnt, xk, tails, planeK, xStride, rowOff, vacc);                     \
  }
WGRAD_VARIANT(Avx512, TARGET_AVX512, 0)
WGRAD_VARIANT(Avx2, TARGET_AVX2, 1)
WGRAD_VARIANT(Portable, , 2)

// The block shape (index into kWgradShapes[isa]) with the fewest computed-and-dropped sums for O × J outputs.
static int WgradShape(int O, int J) {
  const auto& shapes = kWgradShapes[isa == Isa::kAvx512 ? 0 : isa == Isa::kAvx2 ? 1 : 2];
  int best = 0;
  int64_t bestCells = -1;
  for (int s = 0; s < 3; s++) {
    const int64_t cells = (int64_t)((O + shapes[s][0] - 1) / shapes[s][0] * shapes[s][0]) * ((J + shapes[s][1] - 1) / shapes[s][1] * shapes[s][1]);
    if (bestCells < 0 || cells < bestCells) best = s, bestCells = cells;
  }
  return best;
}

// Used for stride-1 ungrouped layers with C·kh·kw ≤ 320 (as the direct forward) and at most 64 output channels.
bool DirectWgradFits(const Geom& g, int O, int groups) {
  return DirectEnabled() && groups == 1 && g.sh == 1 && g.sw == 1 && (int64_t)g.c * g.kh * g.kw <= 320 && O <= 64;
}

template <typename T>
void DirectWgrad(const T* x, const T* gy, const Geom& g, int O, T* gw) {
  constexpr int L = Vec<T>::lanes;
  const int J = g.c * g.kh * g.kw, Hp = g.h + 2 * g.ph;
  const int64_t P = (int64_t)g.oh * g.ow;
  std::vector<int64_t> rowOff(g.kh);
  for (int ky = 0; ky < g.kh; ky++) rowOff[ky] = (int64_t)ky * g.dh * g.ow;
  // a shifted plane holds every read of its taps: up to the last whole vector past P from the last row offset
  const int64_t planeK = std::max<int64_t>((int64_t)Hp * g.ow, rowOff[g.kh - 1] + (P + L - 1) / L * L) + L;
  const int64_t xStride = (int64_t)g.c * g.kw * planeK, wsize = (int64_t)O * J;
  // each thread takes an equal contiguous share of the samples (within one), in groups whose copies and
  // gradients stay in L2 while every block sweeps them
  const int64_t perSample = (xStride + O * P) * (int64_t)sizeof(T);
  const int G = (int)std::max<int64_t>(1, std::min<int64_t>(g.n, (256 << 10) / perSample));
  const double flops = 2.0 * O * J * P * g.n;
  const int threads = flops < 2e6 ? 1 : std::min(ThreadCount(), g.n);
  std::vector<T> vacc((size_t)threads * wsize * L, T(0));
  const int shape = WgradShape(O, J);
  auto share = [&](int t) {
    std::vector<T> xk((size_t)G * xStride, T(0)), tails((size_t)G * O * L, T(0));
    T* va = vacc.data() + (int64_t)t * wsize * L;
    const int s0 = (int)((int64_t)g.n * t / threads), s1 = (int)((int64_t)g.n * (t + 1) / threads);
    for (int b0 = s0; b0 < s1; b0 += G)
      ISA_CALL(Wgrad, x, gy, g, O, b0, std::min(G, s1 - b0), xk.data(), tails.data(), planeK, xStride, rowOff.data(), va, shape);
  };
  if (threads == 1) share(0);
  else RunTasks(threads, share);
  // thread partials in thread order, lanes in lane order: the result does not depend on scheduling
  for (int64_t i = 0; i < wsize; i++) {
    T v = 0;
    for (int t = 0; t < threads; t++)
      for (int l = 0; l < L; l++) v += vacc[((int64_t)t * wsize + i) * L + l];
    gw[i] = v;
  }
}

#define INSTANTIATE(T) template void DirectWgrad<T>(const T*, const T*, const Geom&, int, T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
