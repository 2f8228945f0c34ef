// The pieces of a Winograd F(m×m, 3×3) convolution that depend on the tile size: the four transforms
// and the weight gradient's final one. winograd.cc holds F(2×2, 3×3) and the driver that runs any of
// them; winograd4.cc holds F(4×4, 3×3).
#pragma once

#include <cstdint>

#include "conv.h"

namespace nabla {

// The (m+2)² planes of V, M and Ug (rows × ld each) are laid 32 floats further apart than their size: at
// C·ld (a multiple of 4 KB for most layers) the transforms' interleaved streams fell into the same cache sets.
inline int64_t WinoPlane(int64_t rows, int64_t ld) { return rows * ld + 32; }

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

}  // namespace nabla
