// The direct input gradient of stride-1 convolutions with few channels and wide kernels.
#include "base.h"
#include "conv.h"

namespace nabla {

// The input gradient of a stride-1 ungrouped convolution with few channels (LeNet's second layer:
// 16 → 6 channels, 5×5) without im2col / col2im and without the zero-padded full convolution (which
// multiplies mostly zeros there). For each input channel c and tap column kx, a plane with the output
// row stride ow collects
//   gk[c, kx][Y·ow + X] = Σ_o Σ_ky w[o][c][ky][kx] · gy[o][Y − ky·dh][X]     (padded input row Y),
// read from gy planes with (kh − 1)·dh zero rows in front, so every (o, ky) term is one shifted vector
// load; then gx[c][iy][ix] = Σ_kx gk[c, kx][(iy + ph)·ow + ix + pw − kx·dw] over the columns in range.
// A block keeps RB (c, kx) pairs × PB position vectors in registers; weights are broadcast.
template <typename T, int RB, int PB>
static inline __attribute__((always_inline)) NO_MEMCPY_IDIOM void DgradSample(const T* gy, const T* wt, const Geom& g, int O, T* gp,
                                                                            int64_t gpPlane, T* gk, int64_t gkPlane, T* gx) {
  typedef typename Vec<T>::type V;
  constexpr int L = Vec<T>::lanes;
  const int pairs = g.c * g.kw, lead = (g.kh - 1) * g.dh;
  const int64_t P = (int64_t)g.oh * g.ow;
  // gy planes after `lead` zero rows (the zeros around them were cleared once and are never written)
  for (int o = 0; o < O; o++) {
    T* dst = gp + o * gpPlane + (int64_t)lead * g.ow;
    const T* src = gy + o * P;
    for (int64_t i = 0; i < P; i++) dst[i] = src[i];
  }
  // the rows Y ∈ [ph, ph + h) of gk: input rows
  const int64_t p0 = (int64_t)g.ph * g.ow, p1 = p0 + (int64_t)g.h * g.ow;
  for (int b0 = 0; b0 < pairs; b0 += RB)
    for (int64_t p = p0; p < p1; p += PB * L) {
      V s[RB][PB];
      for (int r = 0; r < RB; r++)
        for (int u = 0; u < PB; u++) s[r][u] = V{};
      for (int o = 0; o < O; o++)
        for (int ky = 0; ky < g.kh; ky++) {
          const T* src = gp + o * gpPlane + p + (int64_t)(lead - ky * g.dh) * g.ow;
          V v[PB];
          for (int u = 0; u < PB; u++) std::memcpy(&v[u], src + u * L, sizeof(V));
          const T* wk = wt + ((int64_t)o * g.kh + ky) * pairs + b0;
          for (int r = 0; r < RB; r++)
            for (int u = 0; u < PB; u++) s[r][u] += wk[r] * v[u];
        }
      for (int r = 0; r < RB && b0 + r < pairs; r++)
        for (int u = 0; u < PB; u++) std::memcpy(gk + (b0 + r) * gkPlane + p + u * L, &s[r][u], sizeof(V));
    }
  for (int c = 0; c < g.c; c++)
    for (int iy = 0; iy < g.h; iy++) {
      T* __restrict out = gx + ((int64_t)c * g.h + iy) * g.w;
      for (int ix = 0; ix < g.w; ix++) out[ix] = 0;
      for (int kx = 0; kx < g.kw; kx++) {
        // column ix reads gk column ix + pw − kx·dw when it lies in [0, ow)
        const int shift = g.pw - kx * g.dw, lo = std::max(0, -shift), hi = std::min(g.w, g.ow - shift);
        const T* __restrict row = gk + ((int64_t)c * g.kw + kx) * gkPlane + (int64_t)(iy + g.ph) * g.ow + shift;
        for (int ix = lo; ix < hi; ix++) out[ix] += row[ix];
      }
    }
}

#define DGRAD_VARIANT(ISA, ATTR, RB, PB)                                                                                     \
  template <typename T>                                                                                                     \
  ATTR NO_MEMCPY_IDIOM void Dgrad##ISA(const T* gy, const T* wt, const Geom& g, int O, T* gp, int64_t gpPlane, T* gk,         \
                                       int64_t gkPlane, T* gx) {                                                            \
    DgradSample<T, RB, PB>(gy, wt, g, O, gp, gpPlane, gk, gkPlane, gx);                                                     \
  }
DGRAD_VARIANT(Avx512, TARGET_AVX512, 10, 2)
DGRAD_VARIANT(Avx2, TARGET_AVX2, 3, 2)
// The portable block: 3 pairs (12 accumulators of 4 lanes: arm64 has 32 registers), 2 in WebAssembly,
// whose engines give SIMD128 16 registers.
#if defined(__wasm__)
#define kPortableRB 2
#else
#define kPortableRB 3
#endif
DGRAD_VARIANT(Portable, , kPortableRB, 1)

// For stride-1 ungrouped layers with kernels of 5 columns or more (where the padded full convolution of
// the flipped direct path spends most of its products on the zero border), (input channel, tap column)
// pairs that fit a few register blocks, and few weights per input channel (O·kh·kw ≤ 400). For 3×3 layers
// the flipped path stays faster.
bool DirectDgradFits(const Geom& g, int O, int groups) {
  return DirectEnabled() && groups == 1 && g.sh == 1 && g.sw == 1 && g.kw >= 5 && g.c * g.kw <= 64 && (int64_t)O * g.kh * g.kw <= 400;
}

template <typename T>
void DirectDgrad(const T* gy, const T* w, const Geom& g, int O, T* gx) {
  constexpr int L = Vec<T>::lanes;
  const int pairs = g.c * g.kw, lead = (g.kh - 1) * g.dh;
  // wt[o][ky][c·kw + kx]; the last block of a row reads up to RB − 1 (≤ 15) weights past it (sums dropped)
  std::vector<T> wt((size_t)O * g.kh * pairs + 16, T(0));
  for (int o = 0; o < O; o++)
    for (int c = 0; c < g.c; c++)
      for (int ky = 0; ky < g.kh; ky++)
        for (int kx = 0; kx < g.kw; kx++) wt[((int64_t)o * g.kh + ky) * pairs + c * g.kw + kx] = w[(((int64_t)o * g.c + c) * g.kh + ky) * g.kw + kx];
  const int Hp = g.h + 2 * g.ph;
  // reads reach row Hp − 1 + lead of a gy plane plus the last block's overhang
  const int64_t gpPlane = (int64_t)(Hp + lead) * g.ow + 4 * L, gkPlane = (int64_t)Hp * g.ow + 4 * L;
  const int64_t P = (int64_t)g.oh * g.ow, plane = (int64_t)g.h * g.w;
  ParallelFor(g.n, 2.0 * O * g.kh * pairs * g.h * g.ow, [&](int64_t b0, int64_t b1) {
    std::vector<T> gp((size_t)O * gpPlane, T(0)), gk((size_t)pairs * gkPlane);
    for (int64_t b = b0; b < b1; b++) ISA_CALL(Dgrad, gy + b * O * P, wt.data(), g, O, gp.data(), gpPlane, gk.data(), gkPlane, gx + b * g.c * plane);
  });
}

#define INSTANTIATE(T) template void DirectDgrad<T>(const T*, const T*, const Geom&, int, T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
