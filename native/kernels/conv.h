// The convolution family's shared pieces: geometry, per-thread scratch, batch chunking, and the kernels
// each path provides (conv_direct.cc, winograd.cc, conv_wgrad.cc, conv_dgrad.cc; chosen in conv.cc).
#pragma once

#include <vector>

#include "im2col.h"
#include "threads.h"

namespace nabla {

// Convolution as GEMMs over unfolded columns that live in per-thread buffers (never a whole-batch
// im2col tensor). Samples are taken in chunks of S: the columns of a chunk sit side by side in each row
// ([C·kh·kw, S·L]), so that late layers with few output pixels (L = 16 in ResNet-18's last stage) still
// give the GEMM a wide B (S·L ≥ 256) instead of a half-empty vector tile. Chunks are the parallel tasks
// when there are enough of them; otherwise each GEMM is spread over the threads. A 1×1, stride-1,
// unpadded convolution of one sample reads the input directly.
struct ConvGeom {
  Geom g;
  int o, groups;
  // fp32Precision "fast": float32 convolutions may take F(4×4, 3×3) Winograd (error bound in the README)
  bool fast = false;
  int64_t kk() const { return (int64_t)(g.c / groups) * g.kh * g.kw; } // columns of one group's weight
  int64_t L() const { return (int64_t)g.oh * g.ow; }
  int64_t taps() const { return (int64_t)g.kh * g.kw; }
  bool pointwise() const { return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0; }
  int chunk() const { return L() >= 256 ? 1 : (int)std::max<int64_t>(1, std::min<int64_t>(g.n, (256 + L() - 1) / L())); }
  int chunks() const { return (g.n + chunk() - 1) / chunk(); }
};

// The algorithm a convolution call took (reported to the caller; the names are in src/backend/native).
enum class ConvAlgo : int { kIm2col = 0, kDirect = 1, kWinograd2 = 2, kWinograd4 = 3 };

// A 3×3 stride-1 convolution as Winograd F(m×m, 3×3) sees it: input [n, c, h, w], o outputs, padding,
// output oh×ow, output tiles of m×m (2, or 4 in the "fast" precision).
struct WinoGeom {
  int n, c, h, w, o, ph, pw, oh, ow;
  int m = 2;
  int th() const { return (oh + m - 1) / m; }
  int tw() const { return (ow + m - 1) / m; }
  int64_t tiles() const { return (int64_t)th() * tw(); }
};

// Whether the chunks of a batch go to the threads one each (enough of them and enough work), rather
// than one after another with each GEMM spread over the threads.
inline bool ChunksPerThread(const ConvGeom& cg, double flopsPerSample) {
  return ThreadCount() > 1 && cg.chunks() >= ThreadCount() && flopsPerSample * cg.g.n >= 2e6;
}

// Run body(firstSample, count, parallelGemm) over the chunks of the batch.
template <typename F>
void ForChunks(const ConvGeom& cg, double flopsPerSample, F body) {
  int threads = ThreadCount(), S = cg.chunk(), chunks = cg.chunks();
  auto run = [&](int c, bool par) { body(c * S, std::min(S, cg.g.n - c * S), par); };
  if (ChunksPerThread(cg, flopsPerSample)) {
    RunTasks(chunks, [&](int c) { run(c, false); });
  } else {
    for (int c = 0; c < chunks; c++) run(c, threads > 1 && flopsPerSample * S >= 4e6);
  }
}

// Per-thread scratch buffers; slot 0 holds unfolded columns, slot 1 a chunk's outputs or output gradients,
// slot 2 Winograd's transformed weights, slot 3 packed GEMM operands (PackAs), slots 4 and 6 ConvMaxPool's
// convolution outputs and padded inputs (pooling.cc).
template <typename T, int Slot>
T* Scratch(size_t n) {
  static thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// count matrices A_i = a + i·aStride packed as GemmRange's pre-packed A, A_i at i·*stride (conv.cc).
template <typename T>
const T* PackAs(const T* a, bool ta, int m, int k, int count, int64_t aStride, int64_t* stride);

// Which paths are allowed (NABLA_DIRECT=0 / NABLA_WINOGRAD=0 turn them off).
bool DirectEnabled();
bool WinogradEnabled();
// True when no element is ±Inf or NaN.
template <typename T>
bool AllFinite(const T* p, int64_t n);

// Direct convolution for few channels (conv_direct.cc): out [N, O, oh, ow] = x [N, C, h, w] ⋆ w at stride 1;
// with `flipped`, w is [C, O, kh, kw] used rotated by 180° (the input gradient).
template <typename T>
void DirectConv(const T* x, const T* w, bool flipped, int N, int C, int h, int wd, int O, int kh, int kw, int ph, int pw, int dh, int dw,
                int oh, int ow, T* out, const T* bias = nullptr);
// Winograd F(g.m×g.m, 3×3) forward (or, flipped, input gradient) and weight gradient (winograd.cc; the
// F(4×4, 3×3) transforms are in winograd4.cc).
template <typename T>
void Winograd(const T* x, const T* w, bool flipped, const WinoGeom& g, T* out, const T* bias = nullptr);
template <typename T>
void WinogradWeightGrad(const T* x, const T* gy, const WinoGeom& g, T* gw);
// Direct weight gradient (conv_wgrad.cc) and input gradient (conv_dgrad.cc) for few channels, stride 1.
bool DirectWgradFits(const Geom& g, int O, int groups);
template <typename T>
void DirectWgrad(const T* x, const T* gy, const Geom& g, int O, T* gw);
bool DirectDgradFits(const Geom& g, int O, int groups);
template <typename T>
void DirectDgrad(const T* gy, const T* w, const Geom& g, int O, T* gx);

}  // namespace nabla
