// The pieces of a Winograd F(m×m, 3×3) convolution that depend on the tile size: the four transforms
// and the weight gradient's final one. winograd.cc holds F(2×2, 3×3) and the driver that runs any of
// them; winograd4.cc holds F(4×4, 3×3).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "base.h"
#include "conv.h"

namespace nabla {

// The (m+2)² planes of V, M and Ug (rows × ld each) are laid 32 floats further apart than their size: at
// C·ld (a multiple of 4 KB for most layers) the transforms' interleaved streams fell into the same cache sets.
inline int64_t WinoPlane(int64_t rows, int64_t ld) { return rows * ld + 32; }

// rows[r·W, (r+1)·W) = input row y0 + r of `plane` (g.h × g.w) for r < n, placed at column pw and zero
// outside the image: the padded rows a tile row of the input transforms reads.
template <typename T>
static inline void WinoPaddedRows(const T* plane, const WinoGeom& g, int y0, int n, int W, T* rows) {
  const int lo = std::max(0, g.pw), hi = std::min(W, g.w + g.pw);  // row[j] = x[iy][j − pw]
  for (int r = 0; r < n; r++) {
    T* row = rows + (int64_t)r * W;
    const int iy = y0 + r;
    std::fill(row, row + W, T(0));
    if (iy >= 0 && iy < g.h && hi > lo) std::memcpy(row + lo, plane + (int64_t)iy * g.w + (lo - g.pw), sizeof(T) * (hi - lo));
  }
}

template <typename T>
struct WinoOps {
  int m;       // output tile m×m
  int planes;  // (m + 2)², one GEMM each
  // U[ξ][o][c] = (G g Gᵀ)[ξ] for g = w[o][c] (or, flipped, for g = rot180(w[c][o]), w of shape [c][o][3][3])
  void (*weights)(const T* w, int O, int C, bool flipped, T* U);
  // V[ξ][c][t] = (Bᵀ d B)[ξ] for the input tiles d of samples b0 … b0+cnt−1 (t = s·tiles + ty·tw + tx), channels [c0, c1)
  void (*input)(const T* x, const WinoGeom& g, int b0, int cnt, int c0, int c1, T* V, int64_t ldv);
  // out[s][o] = Aᵀ M A (+ bias) for the tiles of samples b0 …, output channels [o0, o1); M[ξ][o][t]
  void (*output)(const T* M, const WinoGeom& g, int b0, int cnt, int o0, int o1, int64_t ldm, T* out, const T* bias);
  // Ug[ξ][o][t] = (A dY Aᵀ)[ξ] for the m×m output-gradient tiles of samples b0 …, channels [o0, o1)
  void (*gradOutput)(const T* gy, const WinoGeom& g, int b0, int cnt, int o0, int o1, T* Ug, int64_t ldu);
  // gw[o][c] = Gᵀ Mw G for the planes Mw[ξ][o·C + c] (OC = O·C)
  void (*weightGrad)(const T* Mw, int64_t OC, T* gw);
};

template <typename T>
const WinoOps<T>& Wino4Ops();

// The transforms are compiled once per ISA (they are a quarter of the Winograd time; wider vectors help)
// and for maps 1, 2, 4 and 8 tiles wide (the row loops are a few elements long, and with their bounds known
// they unroll; runtime-width loops cost several times more per tile there). WINO_TRANSFORMS(P) turns the
// templates P##InputT, P##OutputT and P##GradOutputT<T, TW> (TW = 0: any width) into P##Input,
// P##Output and P##GradOutput<T>, which run the copy for the ISA detected at load and the map's width.
#define WINO_BY_WIDTH(tw, F, ...)        \
  switch (tw) {                          \
    case 1: F<T, 1>(__VA_ARGS__); break; \
    case 2: F<T, 2>(__VA_ARGS__); break; \
    case 4: F<T, 4>(__VA_ARGS__); break; \
    case 8: F<T, 8>(__VA_ARGS__); break; \
    default: F<T, 0>(__VA_ARGS__);       \
  }
#define WINO_VARIANT(P, SUFFIX, ATTR)                                                                                            \
  template <typename T>                                                                                                          \
  ATTR void P##Input##SUFFIX(const T* x, const WinoGeom& g, int b0, int cnt, int c0, int c1, T* V, int64_t ldv) {              \
    WINO_BY_WIDTH(g.tw(), P##InputT, x, g, b0, cnt, c0, c1, V, ldv);                                                             \
  }                                                                                                                              \
  template <typename T>                                                                                                          \
  ATTR void P##Output##SUFFIX(const T* M, const WinoGeom& g, int b0, int cnt, int o0, int o1, int64_t ldm, T* out, const T* bias) { \
    WINO_BY_WIDTH(g.tw(), P##OutputT, M, g, b0, cnt, o0, o1, ldm, out, bias);                                                    \
  }                                                                                                                              \
  template <typename T>                                                                                                          \
  ATTR void P##GradOutput##SUFFIX(const T* gy, const WinoGeom& g, int b0, int cnt, int o0, int o1, T* Ug, int64_t ldu) {       \
    WINO_BY_WIDTH(g.tw(), P##GradOutputT, gy, g, b0, cnt, o0, o1, Ug, ldu);                                                      \
  }
#define WINO_TRANSFORMS(P)                                                                                          \
  WINO_VARIANT(P, Avx512, TARGET_AVX512)                                                                            \
  WINO_VARIANT(P, Avx2, TARGET_AVX2)                                                                                \
  WINO_VARIANT(P, Portable, )                                                                                       \
  template <typename T>                                                                                             \
  static void P##Input(const T* x, const WinoGeom& g, int b0, int cnt, int c0, int c1, T* V, int64_t ldv) {        \
    ISA_CALL(P##Input, x, g, b0, cnt, c0, c1, V, ldv);                                                              \
  }                                                                                                                 \
  template <typename T>                                                                                             \
  static void P##Output(const T* M, const WinoGeom& g, int b0, int cnt, int o0, int o1, int64_t ldm, T* out, const T* bias) { \
    ISA_CALL(P##Output, M, g, b0, cnt, o0, o1, ldm, out, bias);                                                     \
  }                                                                                                                 \
  template <typename T>                                                                                             \
  static void P##GradOutput(const T* gy, const WinoGeom& g, int b0, int cnt, int o0, int o1, T* Ug, int64_t ldu) { \
    ISA_CALL(P##GradOutput, gy, g, b0, cnt, o0, o1, Ug, ldu);                                                       \
  }

}  // namespace nabla
