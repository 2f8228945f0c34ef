// Direct convolution for layers with few channels (forward, and the input gradient through `flipped`).
#include "base.h"
#include "conv.h"

namespace nabla {

// For layers with few input channels (LeNet, the first layer of a BN net) the im2col GEMM has k = C·kh·kw
// of 9–150 and m = O of 6–16: packing costs as much as the arithmetic. Here each sample is copied into a
// zero-padded plane with row stride Wp, so that output position p = y·Wp + x reads its tap (ky, kx) at
// p + ky·dh·Wp + kx·dw: consecutive outputs read consecutive inputs, one vector load feeds OB output
// channels (weights broadcast), and the columns x ≥ ow of each padded row are computed and dropped. A
// block keeps OB × PB vector accumulators: OB channels at PB consecutive position vectors, so that a layer
// with 6 output channels runs 8 × 2 instead of filling 6 of 16 channel slots.
template <typename T, int OB, int PB>
static inline __attribute__((always_inline)) void DirectConvSample(const T* wt, int C, int O, int kh, int kw, int dh, int dw,
                                                                 int Hp, int Wp, int oh, int ow, T* xp, T* acc, T* out, const T* bias) {
  typedef typename Vec<T>::type V;
  constexpr int L = Vec<T>::lanes;
  const int64_t P = (int64_t)oh * Wp, taps = (int64_t)kh * kw;
  const int64_t Ppad = (P + 4 * L - 1) / (4 * L) * (4 * L); // the row stride of acc, as allocated by DirectConv
  for (int o0 = 0; o0 < O; o0 += OB) {
    const int ob = std::min(OB, O - o0);
    for (int64_t p0 = 0; p0 < P; p0 += PB * L) {
      V s[OB][PB];
      for (int q = 0; q < OB; q++)
        for (int u = 0; u < PB; u++) s[q][u] = V{};
      for (int c = 0; c < C; c++) {
        const T* base = xp + (int64_t)c * Hp * Wp + p0;
        const T* wc = wt + (int64_t)c * taps * O + o0;
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) {
            V v[PB];
            for (int u = 0; u < PB; u++) std::memcpy(&v[u], base + (int64_t)ky * dh * Wp + kx * dw + u * L, sizeof(V));
            const T* wk = wc + (int64_t)(ky * kw + kx) * O;
            for (int q = 0; q < OB; q++) {
              const T wq = q < ob ? wk[q] : T(0);
              for (int u = 0; u < PB; u++) s[q][u] += wq * v[u];
            }
          }
      }
      for (int q = 0; q < ob; q++)
        for (int u = 0; u < PB; u++) std::memcpy(acc + (int64_t)q * Ppad + p0 + u * L, &s[q][u], sizeof(V));
    }
    for (int q = 0; q < ob; q++) {
      const T b = bias ? bias[o0 + q] : T(0);
      for (int y = 0; y < oh; y++) {
        const T* __restrict src = acc + (int64_t)q * Ppad + (int64_t)y * Wp;
        T* __restrict dst = out + ((int64_t)(o0 + q) * oh + y) * ow;
        for (int xx = 0; xx < ow; xx++) dst[xx] = src[xx] + b;
      }
    }
  }
}

// `narrow` 0 / 1 / 2: OB, OB/2 or OB/4 channels per block at 1, 2 or 4 position vectors; 3: 6 channels at
// 2 position vectors (LeNet's 6-channel layer: no idle channel slot).
// The portable variant's channels per block: 4 (16 accumulators of 4 lanes: arm64 has 32 registers), 1 in
// WebAssembly, whose engines keep fewer SIMD128 registers (Node's V8 ran 2 channels fastest, Chromium's
// spilled them and ran at half speed; with 1 both take the same time: LeNet-5's conv1 + conv2 at b64 in
// 1.6 ms, against 1.5 / 2.8 ms with 2 and 2.5 / 2.6 ms with 4 in Node / Chromium).
#if defined(__wasm__)
#define kPortableOB 1
#else
#define kPortableOB 4
#endif
#define DIRECT_VARIANT(NAME, ATTR, OB)                                                                                            \
  template <typename T>                                                                                                          \
  ATTR void NAME(const T* wt, int C, int O, int kh, int kw, int dh, int dw, int Hp, int Wp, int oh, int ow, T* xp, T* acc,       \
                 T* out, const T* bias, int narrow) {                                                                            \
    if (narrow == 3) DirectConvSample<T, 6, 2>(wt, C, O, kh, kw, dh, dw, Hp, Wp, oh, ow, xp, acc, out, bias);                    \
    else if (narrow == 2) DirectConvSample<T, OB / 4, 4>(wt, C, O, kh, kw, dh, dw, Hp, Wp, oh, ow, xp, acc, out, bias);          \
    else if (narrow == 1) DirectConvSample<T, OB / 2, 2>(wt, C, O, kh, kw, dh, dw, Hp, Wp, oh, ow, xp, acc, out, bias);          \
    else DirectConvSample<T, OB, 1>(wt, C, O, kh, kw, dh, dw, Hp, Wp, oh, ow, xp, acc, out, bias);                               \
  }
DIRECT_VARIANT(DirectAvx512, TARGET_AVX512, 16)
DIRECT_VARIANT(DirectAvx2, TARGET_AVX2, 4)
DIRECT_VARIANT(DirectPortable, , kPortableOB)

// out [N, O, oh, ow] = x [N, C, h, w] ⋆ w [O, C, kh, kw] at stride 1 (any padding, dilation); with
// `flipped`, w is [C, O, kh, kw] and is used rotated by 180° with C and O swapped (the input gradient).
template <typename T>
void DirectConv(const T* x, const T* w, bool flipped, int N, int C, int h, int wd, int O, int kh, int kw, int ph, int pw, int dh,
                int dw, int oh, int ow, T* out, const T* bias) {
  const int64_t taps = (int64_t)kh * kw;
  // wt[c][tap][o]: the OB weights of one tap and channel are adjacent
  std::vector<T> wt((size_t)C * taps * O);
  for (int o = 0; o < O; o++)
    for (int c = 0; c < C; c++)
      for (int64_t t = 0; t < taps; t++)
        wt[((int64_t)c * taps + t) * O + o] = flipped ? w[((int64_t)c * O + o) * taps + (taps - 1 - t)] : w[((int64_t)o * C + c) * taps + t];
  const int Hp = h + 2 * ph, Wp = wd + 2 * pw;
  constexpr int L = Vec<T>::lanes;
  const int64_t plane = (int64_t)Hp * Wp, P = (int64_t)oh * Wp, Ppad = (P + 4 * L - 1) / (4 * L) * (4 * L);
  // the last block of outputs reads up to (kh−1)·dh·Wp + (kw−1)·dw + 4·L past P
  const int64_t xpSize = (int64_t)C * plane + (kh - 1) * dh * Wp + (kw - 1) * dw + 5 * L;
  // channels per block: the widest block that few output channels still fill
  const int OB = isa == Isa::kAvx512 ? 16 : isa == Isa::kAvx2 ? 4 : kPortableOB;
  const int narrow = isa == Isa::kAvx512 && O % 6 == 0 && O % 8 != 0 && O <= 24 ? 3 : O <= OB / 4 ? 2 : O <= OB / 2 ? 1 : 0;
  ParallelFor(N, 2.0 * O * C * taps * oh * ow, [&](int64_t b0, int64_t b1) {
    std::vector<T> xp((size_t)xpSize, T(0)), acc(16 * (size_t)Ppad);
    for (int64_t b = b0; b < b1; b++) {
      const T* xs = x + b * C * h * wd;
      for (int c = 0; c < C; c++)
        for (int y = 0; y < h; y++) std::memcpy(xp.data() + c * plane + (int64_t)(y + ph) * Wp + pw, xs + ((int64_t)c * h + y) * wd, sizeof(T) * wd);
      T* ob = out + b * O * oh * ow;
      ISA_CALL(Direct, wt.data(), C, O, kh, kw, dh, dw, Hp, Wp, oh, ow, xp.data(), acc.data(), ob, bias, narrow);
    }
  });
}


#define INSTANTIATE(T) \
  template void DirectConv<T>(const T*, const T*, bool, int, int, int, int, int, int, int, int, int, int, int, int, int, T*, const T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
