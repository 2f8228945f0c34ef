// Winograd F(2×2, 3×3) convolution: forward, input gradient (flipped weights) and weight gradient.
#include <functional>

#include "base.h"
#include "conv.h"
#include "gemm.h"
#include "winograd.h"

namespace nabla {

// A 3×3, stride-1 convolution as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A over 4×4 input tiles d that give 2×2
// output tiles (Lavin & Gray, 2016): 16 multiplies per tile and channel pair instead of 36, done as 16
// GEMMs M[ξ] = U[ξ]·V[ξ] with U[ξ] [O×C] the transformed weights and V[ξ] [C×tiles] the transformed
// inputs. The transforms only add, subtract and halve, so float32 results stay within a few ulps of the
// direct sum per product term. The backward pass to the input is the same computation on the output
// gradient with the weights rotated by 180° and transposed (O ↔ C), padded by 2 − p.

// U[ξ][o][c] = (G g Gᵀ)[ξ] for g = w[o][c] (or, flipped, for g = rot180(w[c][o]) with w of shape [c][o][3][3]).
// The 16 planes U[ξ] lie O·C apart, a multiple of 4 KB for 32+ channels: storing each element straight to
// its plane sent 16 interleaved store streams into the same cache sets, so a run of
// 16 channels is transformed into a local block first and each plane gets whole 64-byte rows.
template <typename T>
static void WinogradWeights(const T* w, int O, int C, bool flipped, T* U) {
  const int64_t OC = (int64_t)O * C;
  constexpr int CB = 16;
  ParallelFor(O, 40.0 * C, [&](int64_t o0, int64_t o1) {
  T blk[16][CB];
  for (int64_t o = o0; o < o1; o++)
    for (int c0 = 0; c0 < C; c0 += CB) {
      const int cn = std::min(CB, C - c0);
      for (int ci = 0; ci < cn; ci++) {
        const int c = c0 + ci;
        T g[3][3];
        const T* src = flipped ? w + ((int64_t)c * O + o) * 9 : w + ((int64_t)o * C + c) * 9;
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 3; j++) g[i][j] = flipped ? src[(2 - i) * 3 + (2 - j)] : src[i * 3 + j];
        T t[4][3]; // G g
        for (int j = 0; j < 3; j++) {
          t[0][j] = g[0][j];
          t[1][j] = (g[0][j] + g[1][j] + g[2][j]) * T(0.5);
          t[2][j] = (g[0][j] - g[1][j] + g[2][j]) * T(0.5);
          t[3][j] = g[2][j];
        }
        for (int i = 0; i < 4; i++) { // (G g) Gᵀ
          blk[4 * i][ci] = t[i][0];
          blk[4 * i + 1][ci] = (t[i][0] + t[i][1] + t[i][2]) * T(0.5);
          blk[4 * i + 2][ci] = (t[i][0] - t[i][1] + t[i][2]) * T(0.5);
          blk[4 * i + 3][ci] = t[i][2];
        }
      }
      for (int xi = 0; xi < 16; xi++) std::memcpy(U + xi * OC + o * C + c0, blk[xi], sizeof(T) * cn);
    }
  });
}

// V[ξ][c][t] for the tiles of samples b0 … b0+cnt−1 (t = s·tiles + ty·tw + tx), channels [c0, c1).
// TW > 0 compiles a transform for maps that are TW tiles wide (4×4, 8×8 and 16×16 maps: the row loops are
// a few elements long, and with their bounds known they unroll; runtime-width loops cost several times
// more per tile there than on a 32×32 map); TW = 0 takes the width from g.
template <typename T, int TW>
static inline __attribute__((always_inline)) void WinogradInputT(const T* x, const WinoGeom& g, int b0, int cnt, int c0, int c1, T* V, int64_t ldv) {
  const int tw = TW ? TW : g.tw(), W4 = 2 * tw + 2; // a padded row: tile tx covers [2tx, 2tx+4)
  std::vector<T> rows(4 * (size_t)W4), t(4 * (size_t)W4), even(tw + 1), odd(tw + 1);
  const int64_t CT = WinoPlane(g.c, ldv);
  for (int s = 0; s < cnt; s++)
    for (int c = c0; c < c1; c++) {
      const T* plane = x + ((int64_t)(b0 + s) * g.c + c) * g.h * g.w;
      for (int ty = 0; ty < g.th(); ty++) {
        // the four input rows of this tile row, zero outside the image
        WinoPaddedRows(plane, g, 2 * ty - g.ph, 4, W4, rows.data());
        // Bᵀ d along the rows, for the whole width at once
        const T *d0 = rows.data(), *d1 = d0 + W4, *d2 = d1 + W4, *d3 = d2 + W4;
        T *t0 = t.data(), *t1 = t0 + W4, *t2 = t1 + W4, *t3 = t2 + W4;
        for (int j = 0; j < W4; j++) {
          t0[j] = d0[j] - d2[j];
          t1[j] = d1[j] + d2[j];
          t2[j] = d2[j] - d1[j];
          t3[j] = d1[j] - d3[j];
        }
        // (Bᵀ d) B along the columns of each tile; 16 output streams, each contiguous in tx. The row is
        // split into its even and odd columns first, so that every loop below runs on contiguous data.
        int64_t tbase = (int64_t)s * g.tiles() + (int64_t)ty * tw;
        for (int r = 0; r < 4; r++) {
          const T* __restrict tr = t.data() + r * W4;
          T* __restrict ev = even.data();
          T* __restrict od = odd.data();
          for (int k = 0; k <= tw; k++) ev[k] = tr[2 * k], od[k] = tr[2 * k + 1];
          T* __restrict v0 = V + (int64_t)(4 * r) * CT + (int64_t)c * ldv + tbase;
          T* __restrict v1 = v0 + CT;
          T* __restrict v2 = v1 + CT;
          T* __restrict v3 = v2 + CT;
          for (int tx = 0; tx < tw; tx++) v0[tx] = ev[tx] - ev[tx + 1];
          for (int tx = 0; tx < tw; tx++) v1[tx] = od[tx] + ev[tx + 1];
          for (int tx = 0; tx < tw; tx++) v2[tx] = ev[tx + 1] - od[tx];
          for (int tx = 0; tx < tw; tx++) v3[tx] = od[tx] - od[tx + 1];
        }
      }
    }
}

// out[s][o] = Aᵀ M A for the tiles of samples b0 …, output channels [o0, o1); M[ξ][o][t].
template <typename T, int TW>
static inline __attribute__((always_inline)) void WinogradOutputT(const T* M, const WinoGeom& g, int b0, int cnt, int o0, int o1, int64_t ldm, T* out,
                                                                const T* bias) {
  const int tw = TW ? TW : g.tw();
  const int64_t OT = WinoPlane(g.o, ldm);
  std::vector<T> r0(2 * (size_t)tw + 2), r1(2 * (size_t)tw + 2), buf(8 * (size_t)tw);
  for (int s = 0; s < cnt; s++)
    for (int o = o0; o < o1; o++) {
      T* plane = out + ((int64_t)(b0 + s) * g.o + o) * g.oh * g.ow;
      for (int ty = 0; ty < g.th(); ty++) {
        const int64_t tb = (int64_t)s * g.tiles() + (int64_t)ty * tw + (int64_t)o * ldm;
        // rows of Aᵀ M for each of the 4 columns j, as contiguous runs over tx:
        // a0[j] = m[0][j] + m[1][j] + m[2][j], a1[j] = m[1][j] − m[2][j] − m[3][j]
        T* __restrict a = buf.data();
        for (int j = 0; j < 4; j++) {
          const T* __restrict m0 = M + (int64_t)(0 + j) * OT + tb;
          const T* __restrict m1 = M + (int64_t)(4 + j) * OT + tb;
          const T* __restrict m2 = M + (int64_t)(8 + j) * OT + tb;
          const T* __restrict m3 = M + (int64_t)(12 + j) * OT + tb;
          T* __restrict a0 = a + (int64_t)j * tw;
          T* __restrict a1 = a + (int64_t)(4 + j) * tw;
          for (int tx = 0; tx < tw; tx++) a0[tx] = m0[tx] + m1[tx] + m2[tx];
          for (int tx = 0; tx < tw; tx++) a1[tx] = m1[tx] - m2[tx] - m3[tx];
        }
        // then (Aᵀ M) A: columns 0 and 1 of the 2×2 output tile, interleaved into the two output rows
        for (int h = 0; h < 2; h++) {
          const T* __restrict c0 = a + (int64_t)(4 * h) * tw;
          const T *__restrict c1 = c0 + tw, *__restrict c2 = c1 + tw, *__restrict c3 = c2 + tw;
          T* __restrict row = h == 0 ? r0.data() : r1.data();
          for (int tx = 0; tx < tw; tx++) {
            row[2 * tx] = c0[tx] + c1[tx] + c2[tx];
            row[2 * tx + 1] = c1[tx] - c2[tx] - c3[tx];
          }
        }
        const T b = bias ? bias[o] : T(0);
        T* __restrict d0 = plane + (int64_t)(2 * ty) * g.ow;
        for (int xx = 0; xx < g.ow; xx++) d0[xx] = r0[xx] + b;
        if (2 * ty + 1 < g.oh) {
          T* __restrict d1 = d0 + g.ow;
          for (int xx = 0; xx < g.ow; xx++) d1[xx] = r1[xx] + b;
        }
      }
    }
}

// Ugy[ξ][o][t] = (A dY Aᵀ)[ξ] for the 2×2 output-gradient tiles dY of samples b0 …, channels [o0, o1)
// (outside the output the tile is zero), A = [1 0; 1 1; 1 −1; 0 −1].
template <typename T, int TW>
static inline __attribute__((always_inline)) void WinogradGradOutputT(const T* gy, const WinoGeom& g, int b0, int cnt, int o0, int o1, T* Ug, int64_t ldu) {
  const int tw = TW ? TW : g.tw();
  const int64_t OT = WinoPlane(g.o, ldu);
  std::vector<T> rows(4 * (size_t)tw);
  for (int s = 0; s < cnt; s++)
    for (int o = o0; o < o1; o++) {
      const T* plane = gy + ((int64_t)(b0 + s) * g.o + o) * g.oh * g.ow;
      for (int ty = 0; ty < g.th(); ty++) {
        // the tile row's two output rows, split into even and odd columns (zero past the edge)
        T *e0 = rows.data(), *o0r = e0 + tw, *e1 = o0r + tw, *o1r = e1 + tw;
        for (int h = 0; h < 2; h++) {
          T* ev = h == 0 ? e0 : e1;
          T* od = h == 0 ? o0r : o1r;
          const int y = 2 * ty + h;
          if (y >= g.oh) {
            std::fill(ev, ev + tw, T(0));
            std::fill(od, od + tw, T(0));
            continue;
          }
          const T* r = plane + (int64_t)y * g.ow;
          for (int tx = 0; tx < tw; tx++) {
            ev[tx] = r[2 * tx];
            od[tx] = 2 * tx + 1 < g.ow ? r[2 * tx + 1] : T(0);
          }
        }
        const int64_t tb = (int64_t)s * g.tiles() + (int64_t)ty * tw + (int64_t)o * ldu;
        // A dY (rows i of 4) then · Aᵀ (columns j of 4): with p = (A dY)[i][0], q = (A dY)[i][1],
        // the row is (p, p + q, p − q, −q)
        for (int i = 0; i < 4; i++) {
          T* __restrict u0 = Ug + (int64_t)(4 * i) * OT + tb;
          T *__restrict u1 = u0 + OT, *__restrict u2 = u1 + OT, *__restrict u3 = u2 + OT;
          for (int tx = 0; tx < tw; tx++) {
            const T a = e0[tx], b = o0r[tx], c = e1[tx], d = o1r[tx]; // dY = [a b; c d]
            const T p = i == 0 ? a : i == 1 ? a + c : i == 2 ? a - c : -c;
            const T q = i == 0 ? b : i == 1 ? b + d : i == 2 ? b - d : -d;
            u0[tx] = p;
            u1[tx] = p + q;
            u2[tx] = p - q;
            u3[tx] = -q;
          }
        }
      }
    }
}

WINO_TRANSFORMS(Winograd)

// gw[o][c] = Gᵀ M G, Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]
template <typename T>
static void WinogradWeightGradFinish(const T* Mw, int64_t OC, T* gw) {
  ParallelFor(OC, 40, [&](int64_t lo, int64_t hi) {
  for (int64_t oc = lo; oc < hi; oc++) {
    T m[4][4], t[3][4];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) m[i][j] = Mw[(int64_t)(4 * i + j) * OC + oc];
    for (int j = 0; j < 4; j++) {
      t[0][j] = m[0][j] + (m[1][j] + m[2][j]) * T(0.5);
      t[1][j] = (m[1][j] - m[2][j]) * T(0.5);
      t[2][j] = (m[1][j] + m[2][j]) * T(0.5) + m[3][j];
    }
    T* out = gw + oc * 9;
    for (int i = 0; i < 3; i++) {
      out[i * 3 + 0] = t[i][0] + (t[i][1] + t[i][2]) * T(0.5);
      out[i * 3 + 1] = (t[i][1] - t[i][2]) * T(0.5);
      out[i * 3 + 2] = (t[i][1] + t[i][2]) * T(0.5) + t[i][3];
    }
  }
  });
}

template <typename T>
static const WinoOps<T>& Wino2Ops() {
  static const WinoOps<T> ops{2, 16, WinogradWeights<T>, WinogradInput<T>, WinogradOutput<T>, WinogradGradOutput<T>, WinogradWeightGradFinish<T>};
  return ops;
}
template <typename T>
static const WinoOps<T>& OpsFor(const WinoGeom& g) {
  return g.m == 4 ? Wino4Ops<T>() : Wino2Ops<T>();
}

// Samples are taken in chunks of S with at least `target` tiles between them (or the whole batch).
struct WinoChunks {
  int64_t tiles;
  int S, chunks;
  WinoChunks(const WinoGeom& g, int64_t target)
      : tiles(g.tiles()), S((int)std::max<int64_t>(1, std::min<int64_t>(g.n, (target + tiles - 1) / tiles))), chunks((g.n + S - 1) / S) {}
};

// One phase of a chunk: f(i) for i < count, over the threads when `par` (a chunk running alone).
static void WinoPhase(bool par, int count, const std::function<void(int)>& f) {
  if (par) RunTasks(count, f);
  else for (int i = 0; i < count; i++) f(i);
}

// f(lo, hi) over [0, n) in 4 ranges per thread when `par`, else in one.
static void WinoPhaseByRange(bool par, int n, const std::function<void(int, int)>& f) {
  const int parts = par ? std::min(n, 4 * ThreadCount()) : 1;
  WinoPhase(par, parts, [&](int q) { f((int)((int64_t)q * n / parts), (int)((int64_t)(q + 1) * n / parts)); });
}

// The whole convolution: chunks of whole samples with at least 64 or 256 tiles (below); chunks go to the
// threads when there are enough of them, otherwise each phase (transforms by channel, the 16 GEMMs) is
// spread instead.
template <typename T>
void Winograd(const T* x, const T* w, bool flipped, const WinoGeom& g, T* out, const T* bias) {
  const WinoOps<T>& ops = OpsFor<T>(g);
  const int P = ops.planes;
  const int64_t OC = (int64_t)g.o * g.c;
  // the transformed weights live in a reused per-thread buffer: a fresh 16 MB vector (512 channels) cost
  // its zero-fill and page faults on every call
  T* U = Scratch<T, 2>(P * (size_t)OC);
  ops.weights(w, g.o, g.c, flipped, U);
  // 64 tiles per chunk keep a chunk's V and M (16 planes each) near L2 for up to 256 channels; with more
  // channels every chunk streams all of the packed U (16·O·C floats) again, and 256 tiles are faster
  const WinoChunks wc(g, OC <= 256 * 256 ? 64 : 256);
  const int S = wc.S, chunks = wc.chunks, threads = ThreadCount();
  // with several chunks, the P planes U[ξ] are packed once for all of them
  int64_t ustride = 0;
  const T* Upk = chunks > 1 ? PackAs(U, false, g.o, g.c, P, OC, &ustride) : nullptr;
  auto chunk = [&](int ci, bool par) {
    const int b0 = ci * S, cnt = std::min(S, g.n - b0);
    const int64_t ld = cnt * wc.tiles;
    T* V = Scratch<T, 0>(P * WinoPlane(g.c, ld));
    T* M = Scratch<T, 1>(P * WinoPlane(g.o, ld));
    WinoPhaseByRange(par, g.c, [&](int c0, int c1) { ops.input(x, g, b0, cnt, c0, c1, V, ld); });
    WinoPhase(par, P, [&](int xi) {
      GemmRange(U + xi * OC, false, V + xi * WinoPlane(g.c, ld), false, M + xi * WinoPlane(g.o, ld), g.o, g.c, (int)ld, 0, g.o, 0, (int)ld,
                Upk ? Upk + xi * ustride : nullptr);
    });
    WinoPhaseByRange(par, g.o, [&](int o0, int o1) { ops.output(M, g, b0, cnt, o0, o1, ld, out, bias); });
  };
  if (threads > 1 && chunks >= threads) RunTasks(chunks, [&](int ci) { chunk(ci, false); });
  else for (int ci = 0; ci < chunks; ci++) chunk(ci, threads > 1);
}

// gw = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G per (o, c): the 16 sums are GEMMs Mw[ξ] = Ug[ξ]·V[ξ]ᵀ over
// the tiles of each chunk. Each thread sums a fixed share of the chunks into its own Mw and the shares
// are added in thread order (deterministic), as in the im2col weight gradient.
template <typename T>
void WinogradWeightGrad(const T* x, const T* gy, const WinoGeom& g, T* gw) {
  const WinoOps<T>& ops = OpsFor<T>(g);
  const int P = ops.planes;
  const int64_t OC = (int64_t)g.o * g.c;
  // 256 tiles: each chunk adds its P products into the P·O·C sums, which shorter chunks re-read more
  // often (64 tiles were not faster here)
  const WinoChunks wc(g, 256);
  const int S = wc.S, chunks = wc.chunks, threads = ThreadCount();
  const bool byChunks = threads > 1 && chunks >= threads;
  const int shares = byChunks ? threads : 1;
  std::vector<T> Mw((size_t)shares * P * OC);
  auto chunk = [&](int ci, bool par, T* M, bool first) {
    const int b0 = ci * S, cnt = std::min(S, g.n - b0);
    const int64_t ld = cnt * wc.tiles;
    T* V = Scratch<T, 0>(P * WinoPlane(g.c, ld));
    T* Ug = Scratch<T, 1>(P * WinoPlane(g.o, ld));
    WinoPhaseByRange(par, g.c, [&](int c0, int c1) { ops.input(x, g, b0, cnt, c0, c1, V, ld); });
    WinoPhaseByRange(par, g.o, [&](int o0, int o1) { ops.gradOutput(gy, g, b0, cnt, o0, o1, Ug, ld); });
    WinoPhase(par, P, [&](int xi) {
      Gemm1(Ug + xi * WinoPlane(g.o, ld), false, V + xi * WinoPlane(g.c, ld), true, M + xi * OC, g.o, (int)ld, g.c, !first);
    });
  };
  if (byChunks) {
    RunTasks(threads, [&](int t) {
      bool first = true;
      for (int ci = t; ci < chunks; ci += threads, first = false) chunk(ci, false, Mw.data() + (int64_t)t * P * OC, first);
      if (first) std::fill(Mw.begin() + (int64_t)t * P * OC, Mw.begin() + (int64_t)(t + 1) * P * OC, T(0));
    });
    for (int t = 1; t < threads; t++)
      for (int64_t i = 0; i < P * OC; i++) Mw[i] += Mw[(int64_t)t * P * OC + i];
  } else {
    for (int ci = 0; ci < chunks; ci++) chunk(ci, threads > 1, Mw.data(), ci == 0);
  }
  ops.weightGrad(Mw.data(), OC, gw);
}

#define INSTANTIATE(T)                                                                          \
  template void Winograd<T>(const T*, const T*, bool, const WinoGeom&, T*, const T*);         \
  template void WinogradWeightGrad<T>(const T*, const T*, const WinoGeom&, T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
