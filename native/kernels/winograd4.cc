// Winograd F(4×4, 3×3): the transforms of the "fast" float32 precision (the driver is in winograd.cc).
//
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A over 6×6 input tiles d giving 4×4 output tiles: 36 multiplies per tile and
// channel pair instead of F(2×2, 3×3)'s 64 for the same 16 outputs. The interpolation points are
// {0, 1, −1, ½, −2, ∞}: with {0, ±1, ±2} the float32 error is ~2.6× larger (the transforms' entries
// reach 8 and 1/8 either way, but the weight transform's 1/f_j are better balanced here). G carries the
// Lagrange denominators f_j = Π_{l≠j}(p_j − p_l) = 1, 3, −3, −15/16, 15:
//
//   Aᵀ = [1  1  1   1     1   0]    G = [  1      0      0  ]    Bᵀ = [1 −3/2  −2   3/2  1   0]
//        [0  1 −1   1/2  −2   0]        [ 1/3    1/3    1/3 ]         [0  −1   1/2  5/2  1   0]
//        [0  1  1   1/4   4   0]        [−1/3    1/3   −1/3 ]         [0   1  −5/2  1/2  1   0]
//        [0  1 −1   1/8  −8   1]        [−16/15 −8/15 −4/15 ]         [0  −2   −1    2   1   0]
//                                       [ 1/15  −2/15  4/15 ]         [0  1/2  −1  −1/2  1   0]
//                                       [  0      0      1  ]         [0   1  −3/2  −2  3/2  1]
//
// (Bᵀ solves Σ_j Aᵀ[i][j] G[j][k] Bᵀ[j][l] = [l = i + k], which makes the 1-D product a correlation.) The
// weight transforms (G g Gᵀ and the weight gradient's Gᵀ M G) run in double and round once; the input and
// output transforms run in the element type. The error this leaves is measured in test/fp32_precision.test.ts
// and stated in the README.
#include "base.h"
#include "threads.h"
#include "winograd.h"

namespace nabla {

static const double kG[6][3] = {{1, 0, 0},
                                {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                {0, 0, 1}};

// o = Bᵀ d for one column of six values, with the shared terms e = d3 − d1 and f = d4 − d2
template <typename T>
static inline __attribute__((always_inline)) void Bt6(T d0, T d1, T d2, T d3, T d4, T d5, T& o0, T& o1, T& o2, T& o3, T& o4, T& o5) {
  const T e = d3 - d1, f = d4 - d2;
  const T a = f + T(1.5) * d3, b = e + T(1.5) * d2;
  o0 = (d0 - d2) + f + T(1.5) * e;
  o1 = a + b;
  o2 = a - b;
  o3 = f + T(2) * e;
  o4 = f - T(0.5) * e;
  o5 = (d5 - d3) - e + T(1.5) * f;
}

// y = Aᵀ m for one column of six values
template <typename T>
static inline __attribute__((always_inline)) void At4(T m0, T m1, T m2, T m3, T m4, T m5, T& y0, T& y1, T& y2, T& y3) {
  const T s = m1 + m2, d = m1 - m2;
  y0 = m0 + s + m3 + m4;
  y1 = d + T(0.5) * m3 - T(2) * m4;
  y2 = s + T(0.25) * m3 + T(4) * m4;
  y3 = d + T(0.125) * m3 - T(8) * m4 + m5;
}

// u = A v (A = (Aᵀ)ᵀ, 6×4) for one column of four values
template <typename T>
static inline __attribute__((always_inline)) void A6(T v0, T v1, T v2, T v3, T& u0, T& u1, T& u2, T& u3, T& u4, T& u5) {
  const T e = v0 + v2, o = v1 + v3;
  u0 = v0;
  u1 = e + o;
  u2 = e - o;
  u3 = v0 + T(0.5) * v1 + T(0.25) * v2 + T(0.125) * v3;
  u4 = v0 - T(2) * v1 + T(4) * v2 - T(8) * v3;
  u5 = v3;
}

// In double, vectorized over a run of 16 input channels, and rounded once.
template <typename T>
static void Weights4(const T* w, int O, int C, bool flipped, T* U) {
  const int64_t OC = (int64_t)O * C;
  constexpr int CB = 16;
  ParallelFor(O, 120.0 * C, [&](int64_t o0, int64_t o1) {
    double g[9][CB], t[6][3][CB], u[CB];
    T blk[36][CB];
    for (int64_t o = o0; o < o1; o++)
      for (int c0 = 0; c0 < C; c0 += CB) {
        const int cn = std::min(CB, C - c0);
        for (int ci = 0; ci < CB; ci++) {
          const int c = c0 + std::min(ci, cn - 1);  // a partial run repeats its last channel
          const T* src = flipped ? w + ((int64_t)c * O + o) * 9 : w + ((int64_t)o * C + c) * 9;
          for (int k = 0; k < 9; k++) g[k][ci] = flipped ? src[8 - k] : src[k];
        }
        for (int i = 0; i < 6; i++)
          for (int j = 0; j < 3; j++)
            for (int ci = 0; ci < CB; ci++) t[i][j][ci] = kG[i][0] * g[j][ci] + kG[i][1] * g[3 + j][ci] + kG[i][2] * g[6 + j][ci];
        for (int i = 0; i < 6; i++)
          for (int j = 0; j < 6; j++) {
            for (int ci = 0; ci < CB; ci++) u[ci] = t[i][0][ci] * kG[j][0] + t[i][1][ci] * kG[j][1] + t[i][2][ci] * kG[j][2];
            for (int ci = 0; ci < CB; ci++) blk[6 * i + j][ci] = (T)u[ci];
          }
        for (int xi = 0; xi < 36; xi++) std::memcpy(U + xi * OC + o * C + c0, blk[xi], sizeof(T) * cn);
      }
  });
}

// As the F(2×2) transforms: a tile row at a time, vectorized over the tiles of the row, and compiled for
// TW tiles per row (TW = 0: the width from g).
template <typename T, int TW>
static inline __attribute__((always_inline)) void Winograd4InputT(const T* x, const WinoGeom& g, int b0, int cnt, int c0, int c1, T* V, int64_t ldv) {
  const int tw = TW ? TW : g.tw(), W = 4 * tw + 2;  // a padded row: tile tx covers [4tx, 4tx+6)
  const int64_t CT = WinoPlane(g.c, ldv);
  std::vector<T> rows(6 * (size_t)W), t(6 * (size_t)W + 4), ph(4 * (size_t)(tw + 1));
  for (int s = 0; s < cnt; s++)
    for (int c = c0; c < c1; c++) {
      const T* plane = x + ((int64_t)(b0 + s) * g.c + c) * g.h * g.w;
      for (int ty = 0; ty < g.th(); ty++) {
        WinoPaddedRows(plane, g, 4 * ty - g.ph, 6, W, rows.data());  // the six input rows of this tile row
        // Bᵀ d down the six rows, for the whole width at once
        {
          const T* __restrict d = rows.data();
          T* __restrict o = t.data();
          for (int j = 0; j < W; j++)
            Bt6(d[j], d[W + j], d[2 * W + j], d[3 * W + j], d[4 * W + j], d[5 * W + j], o[j], o[W + j], o[2 * W + j], o[3 * W + j], o[4 * W + j],
                o[5 * W + j]);
        }
        // (Bᵀ d) B along each row: the row split into its four column phases (tile tx reads phases 0–3 at
        // tx and phases 0–1 at tx + 1), then six output streams contiguous in tx
        const int64_t tbase = (int64_t)s * g.tiles() + (int64_t)ty * tw;
        for (int r = 0; r < 6; r++) {
          const T* __restrict tr = t.data() + r * W;
          T* __restrict p0 = ph.data();
          T *__restrict p1 = p0 + tw + 1, *__restrict p2 = p1 + tw + 1, *__restrict p3 = p2 + tw + 1;
          for (int k = 0; k <= tw; k++) p0[k] = tr[4 * k], p1[k] = tr[4 * k + 1], p2[k] = tr[4 * k + 2], p3[k] = tr[4 * k + 3];
          T* __restrict v0 = V + (int64_t)(6 * r) * CT + (int64_t)c * ldv + tbase;
          T *__restrict v1 = v0 + CT, *__restrict v2 = v1 + CT, *__restrict v3 = v2 + CT, *__restrict v4 = v3 + CT, *__restrict v5 = v4 + CT;
          for (int tx = 0; tx < tw; tx++) Bt6(p0[tx], p1[tx], p2[tx], p3[tx], p0[tx + 1], p1[tx + 1], v0[tx], v1[tx], v2[tx], v3[tx], v4[tx], v5[tx]);
        }
      }
    }
}

template <typename T, int TW>
static inline __attribute__((always_inline)) void Winograd4OutputT(const T* M, const WinoGeom& g, int b0, int cnt, int o0, int o1, int64_t ldm, T* out,
                                                         const T* bias) {
  const int tw = TW ? TW : g.tw();
  const int64_t OT = WinoPlane(g.o, ldm);
  std::vector<T> a(24 * (size_t)tw), row(4 * (size_t)tw);
  for (int s = 0; s < cnt; s++)
    for (int o = o0; o < o1; o++) {
      T* plane = out + ((int64_t)(b0 + s) * g.o + o) * g.oh * g.ow;
      const T b = bias ? bias[o] : T(0);
      for (int ty = 0; ty < g.th(); ty++) {
        const int64_t tb = (int64_t)s * g.tiles() + (int64_t)ty * tw + (int64_t)o * ldm;
        // a[i][j] = (Aᵀ M)[i][j] for each column j, as runs over tx
        for (int j = 0; j < 6; j++) {
          const T* __restrict m0 = M + (int64_t)j * OT + tb;
          const T *__restrict m1 = m0 + 6 * OT, *__restrict m2 = m1 + 6 * OT, *__restrict m3 = m2 + 6 * OT, *__restrict m4 = m3 + 6 * OT,
                  *__restrict m5 = m4 + 6 * OT;
          T* __restrict a0 = a.data() + (int64_t)j * tw;
          T *__restrict a1 = a0 + 6 * tw, *__restrict a2 = a1 + 6 * tw, *__restrict a3 = a2 + 6 * tw;
          for (int tx = 0; tx < tw; tx++) At4(m0[tx], m1[tx], m2[tx], m3[tx], m4[tx], m5[tx], a0[tx], a1[tx], a2[tx], a3[tx]);
        }
        // then (Aᵀ M) A along each output row, interleaved into the row's four columns per tile
        for (int i = 0; i < 4 && 4 * ty + i < g.oh; i++) {
          const T* __restrict c = a.data() + (int64_t)(6 * i) * tw;
          T* __restrict r = row.data();
          for (int tx = 0; tx < tw; tx++) {
            T y0, y1, y2, y3;
            At4(c[tx], c[tw + tx], c[2 * tw + tx], c[3 * tw + tx], c[4 * tw + tx], c[5 * tw + tx], y0, y1, y2, y3);
            r[4 * tx] = y0 + b;
            r[4 * tx + 1] = y1 + b;
            r[4 * tx + 2] = y2 + b;
            r[4 * tx + 3] = y3 + b;
          }
          std::memcpy(plane + (int64_t)(4 * ty + i) * g.ow, r, sizeof(T) * g.ow);
        }
      }
    }
}

template <typename T, int TW>
static inline __attribute__((always_inline)) void Winograd4GradOutputT(const T* gy, const WinoGeom& g, int b0, int cnt, int o0, int o1, T* Ug, int64_t ldu) {
  const int tw = TW ? TW : g.tw();
  const int64_t OT = WinoPlane(g.o, ldu);
  std::vector<T> q(16 * (size_t)tw), rr(24 * (size_t)tw);
  for (int s = 0; s < cnt; s++)
    for (int o = o0; o < o1; o++) {
      const T* plane = gy + ((int64_t)(b0 + s) * g.o + o) * g.oh * g.ow;
      for (int ty = 0; ty < g.th(); ty++) {
        // q[h][w][tx] = dY[4ty + h][4tx + w] (zero past the edge)
        for (int h = 0; h < 4; h++) {
          T* qh = q.data() + (int64_t)(4 * h) * tw;
          const int y = 4 * ty + h;
          if (y >= g.oh) {
            std::fill(qh, qh + 4 * tw, T(0));
            continue;
          }
          const T* r = plane + (int64_t)y * g.ow;
          for (int w = 0; w < 4; w++)
            for (int tx = 0; tx < tw; tx++) qh[w * tw + tx] = 4 * tx + w < g.ow ? r[4 * tx + w] : T(0);
        }
        // rr[h][j] = (dY Aᵀ)[h][j], then Ug[i][j] = (A (dY Aᵀ))[i][j]
        for (int h = 0; h < 4; h++) {
          const T* __restrict qh = q.data() + (int64_t)(4 * h) * tw;
          T* __restrict u = rr.data() + (int64_t)(6 * h) * tw;
          for (int tx = 0; tx < tw; tx++)
            A6(qh[tx], qh[tw + tx], qh[2 * tw + tx], qh[3 * tw + tx], u[tx], u[tw + tx], u[2 * tw + tx], u[3 * tw + tx], u[4 * tw + tx], u[5 * tw + tx]);
        }
        const int64_t tb = (int64_t)s * g.tiles() + (int64_t)ty * tw + (int64_t)o * ldu;
        for (int j = 0; j < 6; j++) {
          const T* __restrict r0 = rr.data() + (int64_t)j * tw;
          const T *__restrict r1 = r0 + 6 * tw, *__restrict r2 = r1 + 6 * tw, *__restrict r3 = r2 + 6 * tw;
          T* __restrict u0 = Ug + (int64_t)j * OT + tb;
          T *__restrict u1 = u0 + 6 * OT, *__restrict u2 = u1 + 6 * OT, *__restrict u3 = u2 + 6 * OT, *__restrict u4 = u3 + 6 * OT,
                *__restrict u5 = u4 + 6 * OT;
          for (int tx = 0; tx < tw; tx++) A6(r0[tx], r1[tx], r2[tx], r3[tx], u0[tx], u1[tx], u2[tx], u3[tx], u4[tx], u5[tx]);
        }
      }
    }
}

// gw[o][c] = Gᵀ M G in double, rounded once
template <typename T>
static void WeightGrad4(const T* Mw, int64_t OC, T* gw) {
  ParallelFor(OC, 150, [&](int64_t lo, int64_t hi) {
    for (int64_t oc = lo; oc < hi; oc++) {
      double t[3][6];
      for (int j = 0; j < 6; j++)
        for (int k = 0; k < 3; k++) {
          double acc = 0;
          for (int i = 0; i < 6; i++) acc += kG[i][k] * (double)Mw[(int64_t)(6 * i + j) * OC + oc];
          t[k][j] = acc;
        }
      T* out = gw + oc * 9;
      for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++) {
          double acc = 0;
          for (int j = 0; j < 6; j++) acc += t[k][j] * kG[j][l];
          out[k * 3 + l] = (T)acc;
        }
    }
  });
}

WINO_TRANSFORMS(Winograd4)

template <typename T>
const WinoOps<T>& Wino4Ops() {
  static const WinoOps<T> ops{4, 36, Weights4<T>, Winograd4Input<T>, Winograd4Output<T>, Winograd4GradOutput<T>, WeightGrad4<T>};
  return ops;
}

template const WinoOps<float>& Wino4Ops<float>();
template const WinoOps<double>& Wino4Ops<double>();

}  // namespace nabla
