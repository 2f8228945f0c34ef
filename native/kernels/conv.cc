// Convolution forward and both adjoints: the path for each layer (direct, Winograd, im2col + GEMM) is
// chosen here; the im2col path runs in chunks of samples whose columns live in per-thread buffers.
#include <atomic>

#include "base.h"
#include "conv.h"
#include "gemm.h"
#include "kernels.h"

namespace nabla {

// count matrices A_i = a + i·aStride ([m×k], or its transpose with ta) packed in the layout GemmRange
// takes as a pre-packed A, A_i at i·stride; the threads pack disjoint panels. For GEMMs that share an A
// across chunks of a batch, which would otherwise each pack it again.
template <typename T>
const T* PackAs(const T* a, bool ta, int m, int k, int count, int64_t aStride, int64_t* stride) {
  const int mr = GemmMR(), panels = (m + mr - 1) / mr, total = panels * count;
  *stride = (int64_t)panels * mr * k;
  T* buf = Scratch<T, 3>((size_t)(*stride * count));
  const int tasks = std::min(total, 4 * ThreadCount());
  RunTasks(tasks, [&](int t) {
    for (int q = t; q < total; q += tasks) GemmPackA(a + (q / panels) * aStride, ta, m, k, q % panels, q % panels + 1, buf + (q / panels) * *stride);
  });
  return buf;
}

// A layer's weights packed once for the GEMMs of every chunk, when the chunks run one per thread: each
// chunk's GEMM re-packed all of them (ResNet-18's stride-2 convolutions: 4–64 chunks of 256 columns,
// each packing a 0.3–4.7 MB weight matrix to use it for 256 columns). Null when the chunks run one after
// another (each GEMM is then spread over the threads and packs for itself).
template <typename T>
static const T* PackedConvWeights(const ConvGeom& cg, double flopsPerSample, const T* w, bool ta, int m, int k, int64_t* stride) {
  if (!ChunksPerThread(cg, flopsPerSample) || m <= 0 || k <= 0) return nullptr;
  return PackAs(w, ta, m, k, cg.groups, (int64_t)(cg.o / cg.groups) * cg.kk(), stride);
}

// The columns [C·kh·kw, cnt·L] of samples b0 … b0+cnt−1, or the input itself for one pointwise sample.
template <typename T>
static const T* ChunkCols(const T* x, const ConvGeom& cg, int b0, int cnt) {
  const Geom& g = cg.g;
  int64_t plane = (int64_t)g.h * g.w, L = cg.L(), ld = cnt * L;
  if (cg.pointwise() && cnt == 1) return x + (int64_t)b0 * g.c * plane;
  T* buf = Scratch<T, 0>((size_t)g.c * cg.taps() * ld);
  for (int s = 0; s < cnt; s++) {
    const T* xb = x + (int64_t)(b0 + s) * g.c * plane;
    for (int ch = 0; ch < g.c; ch++) Im2colPlane(xb + ch * plane, g, T(0), buf + ch * cg.taps() * ld + s * L, ld);
  }
  return buf;
}

// Gather rows [O, cnt·L] of samples b0 … from y [N, O, L] (or the sample itself when cnt is 1).
template <typename T>
static const T* ChunkRows(const T* y, const ConvGeom& cg, int b0, int cnt) {
  int64_t L = cg.L(), ld = cnt * L;
  if (cnt == 1) return y + (int64_t)b0 * cg.o * L;
  T* buf = Scratch<T, 1>((size_t)cg.o * ld);
  for (int s = 0; s < cnt; s++)
    for (int o = 0; o < cg.o; o++) std::memcpy(buf + o * ld + s * L, y + ((int64_t)(b0 + s) * cg.o + o) * L, sizeof(T) * L);
  return buf;
}
// Direct convolution is used for stride-1 ungrouped layers with C·kh·kw ≤ 320 and at least 4 output
// channels: there packing for the GEMM costs as much as the arithmetic; with 1–3 output channels most of
// each channel block is idle, and from C·kh·kw ≈ 400 the GEMM wins (bench/notes/kernels.md). NABLA_DIRECT=0
// turns it off.
bool DirectEnabled() {
  static const bool on = [] { const char* e = getenv("NABLA_DIRECT"); return !(e && e[0] == '0'); }();
  return on;
}
static bool DirectFits(int64_t kk, int outChannels) {
  return DirectEnabled() && kk <= 320 && outChannels >= 4;
}


// Winograd is used for float32 3×3 convolutions with stride 1, no dilation, one group, padding ≤ 2 and
// enough channels for the 16 GEMMs to be worth their transforms; NABLA_WINOGRAD=0 turns it off.
bool WinogradEnabled() {
  static const bool on = [] { const char* e = getenv("NABLA_WINOGRAD"); return !(e && e[0] == '0'); }();
  return on;
}
// True when no element is ±Inf or NaN (exponent bits all ones), checked over the raw bits so that the
// loop vectorizes. Winograd mixes every input of a tile into every output of it, so an Inf would turn
// neighbouring outputs into NaN (Inf − Inf) where a direct sum leaves them finite: such inputs take the
// im2col / GEMM path instead.
template <typename T>
bool AllFinite(const T* p, int64_t n) {
  typedef typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type U;
  const U mask = sizeof(T) == 4 ? (U)0x7f800000u : (U)0x7ff0000000000000ull;
  std::atomic<bool> finite{true};
  ParallelFor(n, 0.25, [&](int64_t lo, int64_t hi) {
    U bad = 0;
    for (int64_t i = lo; i < hi; i++) {
      U u;
      std::memcpy(&u, p + i, sizeof(U));
      bad |= (U)((u & mask) == mask);
    }
    if (bad) finite = false;
  });
  return finite;
}


template <typename T>
static bool WinogradFits(const ConvGeom& cg) {
  const Geom& g = cg.g;
  return std::is_same<T, float>::value && WinogradEnabled() && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         cg.groups == 1 && g.ph <= 2 && g.pw <= 2 && g.c >= 16 && cg.o >= 16 && g.oh >= 2 && g.ow >= 2;
}

// The Winograd tile for a layer WinogradFits: F(4×4, 3×3) in the "fast" precision when the batch has at
// least 512 of its 4×4 output tiles (where the input gradient runs, tiles of the input), else F(2×2, 3×3).
// F(4×4)'s transformed weights (36·O·C values, written and read once per call) are 2.25× F(2×2)'s: with
// fewer tiles the GEMM work they save does not pay for that traffic (batch 64: ResNet-18's 8×8 and 4×4
// maps ran 15–35 % slower in F(4×4), its 16×16 and 32×32 maps 3 % and 17 % faster; bench/notes/kernels.md).
static int WinoTile(const ConvGeom& cg, int oh, int ow) {
  return cg.fast && (int64_t)cg.g.n * ((oh + 3) / 4) * ((ow + 3) / 4) >= 512 ? 4 : 2;
}
static ConvAlgo WinoAlgo(int m) { return m == 4 ? ConvAlgo::kWinograd4 : ConvAlgo::kWinograd2; }

template <typename T>
ConvAlgo ConvForward(const T* x, const T* w, const ConvGeom& cg, T* out, const T* bias) {
  const Geom& gg = cg.g;
  if (cg.groups == 1 && gg.sh == 1 && gg.sw == 1 && DirectFits((int64_t)gg.c * gg.kh * gg.kw, cg.o)) {
    DirectConv(x, w, false, gg.n, gg.c, gg.h, gg.w, cg.o, gg.kh, gg.kw, gg.ph, gg.pw, gg.dh, gg.dw, gg.oh, gg.ow, out, bias);
    return ConvAlgo::kDirect;
  }
  if (WinogradFits<T>(cg) && AllFinite(x, (int64_t)cg.g.n * cg.g.c * cg.g.h * cg.g.w) && AllFinite(w, cg.o * cg.kk())) {
    const Geom& g = cg.g;
    const int m = WinoTile(cg, g.oh, g.ow);
    Winograd(x, w, false, WinoGeom{g.n, g.c, g.h, g.w, cg.o, g.ph, g.pw, g.oh, g.ow, m}, out, bias);
    return WinoAlgo(m);
  }
  int64_t kk = cg.kk(), L = cg.L(), og = cg.o / cg.groups, pstride = 0;
  const T* packed = PackedConvWeights(cg, 2.0 * cg.o * kk * L, w, false, (int)og, (int)kk, &pstride);
  ForChunks(cg, 2.0 * cg.o * kk * L, [&](int b0, int cnt, bool par) {
    int64_t ld = cnt * L;
    const T* cols = ChunkCols(x, cg, b0, cnt);
    T* dst = cnt == 1 ? out + (int64_t)b0 * cg.o * L : Scratch<T, 1>((size_t)cg.o * ld);
    for (int gi = 0; gi < cg.groups; gi++) {
      if (packed && !par)
        GemmRange(w + gi * og * kk, false, cols + gi * kk * ld, false, dst + gi * og * ld, (int)og, (int)kk, (int)ld, 0, (int)og, 0, (int)ld, packed + gi * pstride);
      else
        GemmMaybeParallel(par, w + gi * og * kk, false, cols + gi * kk * ld, false, dst + gi * og * ld, (int)og, (int)kk, (int)ld);
    }
    if (bias)
      for (int o = 0; o < cg.o; o++) {
        T* __restrict row = dst + o * ld;
        for (int64_t i = 0; i < ld; i++) row[i] += bias[o];
      }
    if (cnt > 1)
      for (int s = 0; s < cnt; s++)
        for (int o = 0; o < cg.o; o++) std::memcpy(out + ((int64_t)(b0 + s) * cg.o + o) * L, dst + o * ld + s * L, sizeof(T) * L);
  });
  return ConvAlgo::kIm2col;
}

template <typename T>
ConvAlgo ConvBackwardInput(const T* gy, const T* w, const ConvGeom& cg, T* gx) {
  const Geom& g = cg.g;
  if (DirectDgradFits(g, cg.o, cg.groups)) {
    DirectDgrad(gy, w, g, cg.o, gx);
    return ConvAlgo::kDirect;
  }
  // the input gradient of a stride-1 convolution is a stride-1 convolution of gy padded by (k−1)·d − p
  if (cg.groups == 1 && g.sh == 1 && g.sw == 1 && DirectFits((int64_t)cg.o * g.kh * g.kw, g.c) && g.ph <= (g.kh - 1) * g.dh &&
      g.pw <= (g.kw - 1) * g.dw) {
    DirectConv(gy, w, true, g.n, cg.o, g.oh, g.ow, g.c, g.kh, g.kw, (g.kh - 1) * g.dh - g.ph, (g.kw - 1) * g.dw - g.pw, g.dh, g.dw, g.h, g.w, gx);
    return ConvAlgo::kDirect;
  }
  if (WinogradFits<T>(cg) && AllFinite(gy, (int64_t)g.n * cg.o * g.oh * g.ow) && AllFinite(w, cg.o * cg.kk())) {
    // gx = gy ⋆ rot180(wᵀ) with padding 2 − p: a stride-1 3×3 convolution from O channels to C
    const int m = WinoTile(cg, g.h, g.w);
    Winograd(gy, w, true, WinoGeom{g.n, cg.o, g.oh, g.ow, g.c, 2 - g.ph, 2 - g.pw, g.h, g.w, m}, gx);
    return WinoAlgo(m);
  }
  int64_t kk = cg.kk(), L = cg.L(), og = cg.o / cg.groups, plane = (int64_t)g.h * g.w, pstride = 0;
  const T* packed = PackedConvWeights(cg, 2.0 * cg.o * kk * L, w, true, (int)kk, (int)og, &pstride);
  // cols (or gx itself for a pointwise sample) = wᵀ · gy for each group
  auto gemm = [&](bool par, int gi, const T* b, T* c, int64_t n) {
    if (packed && !par)
      GemmRange(w + gi * og * kk, true, b, false, c, (int)kk, (int)og, (int)n, 0, (int)kk, 0, (int)n, packed + gi * pstride);
    else
      GemmMaybeParallel(par, w + gi * og * kk, true, b, false, c, (int)kk, (int)og, (int)n);
  };
  ForChunks(cg, 2.0 * cg.o * kk * L, [&](int b0, int cnt, bool par) {
    int64_t ld = cnt * L;
    const T* gyc = ChunkRows(gy, cg, b0, cnt);
    if (cg.pointwise() && cnt == 1) {
      for (int gi = 0; gi < cg.groups; gi++) gemm(par, gi, gyc + gi * og * L, gx + (int64_t)b0 * g.c * plane + gi * kk * L, L);
      return;
    }
    T* cols = Scratch<T, 0>((size_t)g.c * cg.taps() * ld);
    for (int gi = 0; gi < cg.groups; gi++) gemm(par, gi, gyc + gi * og * ld, cols + gi * kk * ld, ld);
    for (int s = 0; s < cnt; s++) {
      T* gxb = gx + (int64_t)(b0 + s) * g.c * plane;
      std::memset(gxb, 0, sizeof(T) * g.c * plane);
      for (int ch = 0; ch < g.c; ch++) Col2imPlane(cols + ch * cg.taps() * ld + s * L, g, gxb + ch * plane, ld);
    }
  });
  return ConvAlgo::kIm2col;
}

// gw = Σ over chunks of gy_chunk · cols_chunkᵀ. Each thread sums a fixed share of the chunks (c ≡ t mod
// threads) into its own buffer and the buffers are added in thread order, so the result does not depend
// on scheduling.
template <typename T>
ConvAlgo ConvBackwardWeight(const T* x, const T* gy, const ConvGeom& cg, T* gw) {
  // the 16 weight-gradient GEMMs are O×C each: below O·C ≈ 1024 they are too small to pay for the
  // transforms, and the inner-product path below is faster
  if (WinogradFits<T>(cg) && (int64_t)cg.o * cg.g.c >= 1024 && AllFinite(x, (int64_t)cg.g.n * cg.g.c * cg.g.h * cg.g.w) &&
      AllFinite(gy, (int64_t)cg.g.n * cg.o * cg.g.oh * cg.g.ow)) {
    const Geom& g = cg.g;
    const int m = WinoTile(cg, g.oh, g.ow);
    WinogradWeightGrad(x, gy, WinoGeom{g.n, g.c, g.h, g.w, cg.o, g.ph, g.pw, g.oh, g.ow, m}, gw);
    return WinoAlgo(m);
  }
  if (DirectWgradFits(cg.g, cg.o, cg.groups)) {
    DirectWgrad(x, gy, cg.g, cg.o, gw);
    return ConvAlgo::kDirect;
  }
  int64_t kk = cg.kk(), L = cg.L(), og = cg.o / cg.groups, wsize = cg.o * kk;
  int S = cg.chunk(), chunks = cg.chunks();
  double flops = 2.0 * cg.o * kk * L * cg.g.n;
  int threads = flops < 2e6 || chunks < ThreadCount() ? 1 : ThreadCount();
  bool parGemm = threads == 1 && chunks == 1 && ThreadCount() > 1 && flops >= 4e6;
  // Inner-product blocks beat the packed GEMM when the sums are long or the weight has few rows (ld ≥ 512
  // or og ≤ 32); wide late layers with ld = 256 keep the GEMM.
  bool useDot = !parGemm && ((int64_t)S * L >= 512 || og <= 32);
  std::vector<T> partial((size_t)(threads - 1) * wsize);
  auto share = [&](int t) {
    T* acc = t == 0 ? gw : partial.data() + (t - 1) * wsize;
    bool first = true;
    for (int c = t; c < chunks; c += threads) {
      int b0 = c * S, cnt = std::min(S, cg.g.n - b0);
      int64_t ld = cnt * L;
      const T* cols = ChunkCols(x, cg, b0, cnt);
      const T* gyc = ChunkRows(gy, cg, b0, cnt);
      for (int gi = 0; gi < cg.groups; gi++) {
        if (useDot) DotGemm(gyc + gi * og * ld, cols + gi * kk * ld, acc + gi * og * kk, (int)og, (int)ld, (int)kk, !first);
        else GemmMaybeParallel(parGemm, gyc + gi * og * ld, false, cols + gi * kk * ld, true, acc + gi * og * kk, (int)og, (int)ld, (int)kk, !first);
      }
      first = false;
    }
    if (first) std::memset(acc, 0, sizeof(T) * wsize);
  };
  if (threads == 1) share(0);
  else RunTasks(threads, share);
  for (int t = 1; t < threads; t++) {
    const T* p = partial.data() + (t - 1) * wsize;
    for (int64_t i = 0; i < wsize; i++) gw[i] += p[i];
  }
  return ConvAlgo::kIm2col;
}

#define INSTANTIATE(T)                                                                                   \
  template const T* PackAs<T>(const T*, bool, int, int, int, int64_t, int64_t*);                      \
  template bool AllFinite<T>(const T*, int64_t);                                                        \
  template ConvAlgo ConvForward<T>(const T*, const T*, const ConvGeom&, T*, const T*);                \
  template ConvAlgo ConvBackwardInput<T>(const T*, const T*, const ConvGeom&, T*);                     \
  template ConvAlgo ConvBackwardWeight<T>(const T*, const T*, const ConvGeom&, T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
