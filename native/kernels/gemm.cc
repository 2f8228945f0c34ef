// GEMM: packed, register-tiled, with explicit vector code compiled once per ISA.
#include <numeric>

#include "base.h"
#include "gemm.h"
#include "threads.h"

namespace nabla {

// C[m×n] = op(A)[m×k] · op(B)[k×n]. A is packed into MR-row panels and B into NR-column panels
// (k-major), and an MR×NR tile of C lives in vector registers during the k loop. The tile is chosen
// per ISA: 12×32 floats (24 of the 32 zmm registers) with AVX-512, 6×16 (12 of 16 ymm) otherwise, so
// that enough independent FMA chains are in flight to hide the FMA latency.
constexpr int KC = 384;
constexpr int NC = 1024; // multiple of every NR

template <typename T, int MR>
static inline __attribute__((always_inline)) void PackA(const T* a, bool trans, int64_t lda_m, int64_t k, int i0, int mc, int p0,
                                                         int kc, T* dst) {
  // dst[panel][p][r] = A[i0 + panel·MR + r][p0 + p], zero past the last row
  for (int pn = 0; pn < mc; pn += MR) {
    int rows = std::min(MR, mc - pn);
    if (trans) {
      for (int p = 0; p < kc; p++, dst += MR) {
        const T* src = a + (int64_t)(p0 + p) * lda_m + i0 + pn;
        for (int r = 0; r < rows; r++) dst[r] = src[r];
        for (int r = rows; r < MR; r++) dst[r] = 0;
      }
    } else {
      for (int r = 0; r < MR; r++) {
        if (r < rows) {
          const T* src = a + (int64_t)(i0 + pn + r) * k + p0;
          for (int p = 0; p < kc; p++) dst[p * MR + r] = src[p];
        } else {
          for (int p = 0; p < kc; p++) dst[p * MR + r] = 0;
        }
      }
      dst += (int64_t)kc * MR;
    }
  }
}

template <typename T, int NR>
static inline __attribute__((always_inline)) void PackB(const T* b, bool trans, int64_t k, int64_t n, int j0, int nc, int p0, int kc,
                                                         T* dst) {
  // dst[panel][p][c] = B[p0 + p][j0 + panel·NR + c], zero past the last column
  for (int pn = 0; pn < nc; pn += NR) {
    int cols = std::min(NR, nc - pn);
    if (trans) {
      for (int c = 0; c < NR; c++) {
        if (c < cols) {
          const T* src = b + (int64_t)(j0 + pn + c) * k + p0;
          for (int p = 0; p < kc; p++) dst[p * NR + c] = src[p];
        } else {
          for (int p = 0; p < kc; p++) dst[p * NR + c] = 0;
        }
      }
      dst += (int64_t)kc * NR;
    } else {
      for (int p = 0; p < kc; p++, dst += NR) {
        const T* src = b + (int64_t)(p0 + p) * n + j0 + pn;
        if (cols == NR) {
          std::memcpy(dst, src, sizeof(T) * NR);
        } else {
          for (int c = 0; c < cols; c++) dst[c] = src[c];
          for (int c = cols; c < NR; c++) dst[c] = 0;
        }
      }
    }
  }
}

template <typename T, int MR, int NV>
static inline __attribute__((always_inline)) void Micro(const T* ap, const T* bp, int kc, T* c, int64_t ldc, int rows, int cols, bool acc) {
  typedef typename Vec<T>::type V;
  constexpr int L = Vec<T>::lanes, NR = NV * L;
  V cs[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) cs[r][v] = V{};
  for (int r = 0; r < rows; r++) __builtin_prefetch(c + r * ldc, 1);
#pragma GCC unroll 2
  for (int p = 0; p < kc; p++) {
    V b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) std::memcpy(&b[v], bp + (int64_t)p * NR + v * L, sizeof(V));
    const T* a = ap + (int64_t)p * MR;
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) cs[r][v] += a[r] * b[v];
  }
  if (cols == NR) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      if (r >= rows) break;
      T* row = c + r * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        V old = {};
        if (acc) std::memcpy(&old, row + v * L, sizeof(V));
        V out = old + cs[r][v];
        std::memcpy(row + v * L, &out, sizeof(V));
      }
    }
  } else {
    for (int r = 0; r < rows; r++) {
      T* row = c + r * ldc;
      for (int q = 0; q < cols; q++) row[q] = (acc ? row[q] : 0) + cs[r][q / L][q % L];
    }
  }
}

// k is cut into equal blocks of at most KC: 512 = 256 + 256, not 384 + 128.
static inline int KStep(int k) {
  int blocks = std::max(1, (k + KC - 1) / KC);
  return (k + blocks - 1) / blocks;
}

// Pack the MR-row panels [panel0, panel1) of A for every k block, in the layout GemmBlock reads when it is
// handed a pre-packed A: block p0 at p0·mpad, the panel of row i at + i·kc (mpad = m rounded up to MR).
template <typename T, int MR>
static inline __attribute__((always_inline)) void PackAllA(const T* a, bool ta, int m, int k, int panel0, int panel1, T* dst) {
  const int64_t mpad = (int64_t)(m + MR - 1) / MR * MR;
  int kstep = KStep(k);
  for (int p0 = 0; p0 < k; p0 += kstep) {
    int kc = std::min(kstep, k - p0);
    for (int q = panel0; q < panel1; q++) PackA<T, MR>(a, ta, m, k, q * MR, std::min(MR, m - q * MR), p0, kc, dst + p0 * mpad + (int64_t)q * MR * kc);
  }
}

// One GEMM over the block [iBegin, iEnd) × [jBegin, jEnd) of C (threads split the columns or the rows).
template <typename T, int MR, int NV>
static inline __attribute__((always_inline)) void GemmBlock(const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, int iBegin,
                                                             int iEnd, int jBegin, int jEnd, const T* packedA, bool accumulate) {
  constexpr int NR = NV * Vec<T>::lanes, MC = MR * 8;
  const int64_t mpad = (int64_t)(m + MR - 1) / MR * MR;
  // packing buffers, one pair per thread, reused across calls (a LeNet step runs hundreds of small GEMMs)
  static thread_local std::vector<T> pa((size_t)MC * KC), pb((size_t)NC * KC);
  for (int j0 = jBegin; j0 < jEnd; j0 += NC) {
    int nc = std::min(NC, jEnd - j0);
    int kstep = KStep(k);
    for (int p0 = 0; p0 < k; p0 += kstep) {
      int kc = std::min(kstep, k - p0);
      PackB<T, NR>(b, tb, k, n, j0, nc, p0, kc, pb.data());
      for (int i0 = iBegin; i0 < iEnd; i0 += MC) {
        int mc = std::min(MC, iEnd - i0);
        const T* ap = packedA ? packedA + p0 * mpad + (int64_t)i0 * kc : pa.data();
        if (!packedA) PackA<T, MR>(a, ta, m, k, i0, mc, p0, kc, pa.data());
        for (int jr = 0; jr < nc; jr += NR) {
          for (int ir = 0; ir < mc; ir += MR) {
            Micro<T, MR, NV>(ap + (int64_t)ir * kc, pb.data() + (int64_t)jr * kc, kc, c + (int64_t)(i0 + ir) * n + j0 + jr, n,
                             std::min(MR, mc - ir), std::min(NR, nc - jr), p0 > 0 || accumulate);
          }
        }
      }
    }
  }
  if (k == 0 && !accumulate)
    for (int i = iBegin; i < iEnd; i++) std::memset(c + (int64_t)i * n + jBegin, 0, sizeof(T) * (jEnd - jBegin));
}

#define GEMM_VARIANT(ISA, ATTR, MR, NV)                                                                                      \
  template <typename T>                                                                                                      \
  ATTR void Gemm##ISA(const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, int i0, int i1, int j0, int j1,       \
                 const T* packedA, bool accumulate) {                                                                        \
    GemmBlock<T, MR, NV>(a, ta, b, tb, c, m, k, n, i0, i1, j0, j1, packedA, accumulate);                                     \
  }                                                                                                                          \
  template <typename T>                                                                                                      \
  ATTR void GemmPackA##ISA(const T* a, bool ta, int m, int k, int q0, int q1, T* dst) {                                         \
    PackAllA<T, MR>(a, ta, m, k, q0, q1, dst);                                                                               \
  }
GEMM_VARIANT(Avx512, TARGET_AVX512, 12, 2)
GEMM_VARIANT(Avx2, TARGET_AVX2, 6, 1)
// (In WebAssembly 4 or 3 rows were slower than 6 despite the spills: 40 and 37 GFLOP/s against 45.)
#define kPortableMR 6
GEMM_VARIANT(Portable, , kPortableMR, 1)

// C[i][j] = (C[i][j] +) Σ_p A[i][p]·B[j][p] with both operands contiguous along p (A row-major [m×k], B
// given as its transpose [n×k]): for a small m×n with a long k — the weight gradient of a convolution
// with few channels (16×9 outputs summed over 784 pixels per sample) would fill a fraction of a 12×32
// GEMM tile and pay for packing both operands. Here an R×R block of outputs keeps R² vector
// accumulators running along p, reads A and B in place, and sums the lanes at the end.
template <typename T, int R>
static inline __attribute__((always_inline)) void DotBlock(const T* a, const T* b, T* c, int m, int k, int n, bool acc) {
  typedef typename Vec<T>::type V;
  constexpr int L = Vec<T>::lanes;
  for (int i0 = 0; i0 < m; i0 += R)
    for (int j0 = 0; j0 < n; j0 += R) {
      const T* ar[R];
      const T* br[R];
      // rows past the edge repeat the last one; their sums are computed and dropped
      for (int r = 0; r < R; r++) {
        ar[r] = a + (int64_t)std::min(i0 + r, m - 1) * k;
        br[r] = b + (int64_t)std::min(j0 + r, n - 1) * k;
      }
      V s[R][R];
      for (int r = 0; r < R; r++)
        for (int q = 0; q < R; q++) s[r][q] = V{};
      int p = 0;
      for (; p + L <= k; p += L) {
        V av[R], bv[R];
        for (int r = 0; r < R; r++) std::memcpy(&av[r], ar[r] + p, sizeof(V));
        for (int q = 0; q < R; q++) std::memcpy(&bv[q], br[q] + p, sizeof(V));
        for (int r = 0; r < R; r++)
          for (int q = 0; q < R; q++) s[r][q] += av[r] * bv[q];
      }
      for (int r = 0; r < R && i0 + r < m; r++)
        for (int q = 0; q < R && j0 + q < n; q++) {
          T v = 0;
          for (int l = 0; l < L; l++) v += s[r][q][l];
          for (int pp = p; pp < k; pp++) v += ar[r][pp] * br[q][pp];
          T* out = c + (int64_t)(i0 + r) * n + j0 + q;
          *out = acc ? *out + v : v;
        }
    }
}

#define DOT_VARIANT(ISA, ATTR, R)                                                               \
  template <typename T>                                                                         \
  ATTR void Dot##ISA(const T* a, const T* b, T* c, int m, int k, int n, bool acc) {                 \
    DotBlock<T, R>(a, b, c, m, k, n, acc);                                                      \
  }
DOT_VARIANT(Avx512, TARGET_AVX512, 4)
DOT_VARIANT(Avx2, TARGET_AVX2, 2)
DOT_VARIANT(Portable, , 2)


template <typename T>
void GemmRange(const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, int i0, int i1, int j0, int j1, const T* packedA,
               bool accumulate) {
  ISA_CALL(Gemm, a, ta, b, tb, c, m, k, n, i0, i1, j0, j1, packedA, accumulate);
}

template <typename T>
void DotGemm(const T* a, const T* b, T* c, int m, int k, int n, bool acc) {
  ISA_CALL(Dot, a, b, c, m, k, n, acc);
}

int GemmMR() { return isa == Isa::kAvx512 ? 12 : isa == Isa::kAvx2 ? 6 : kPortableMR; }

template <typename T>
void GemmPackA(const T* a, bool ta, int m, int k, int q0, int q1, T* dst) {
  ISA_CALL(GemmPackA, a, ta, m, k, q0, q1, dst);
}

// Single-threaded GEMM of one matrix pair, C = op(A)·op(B) or C += op(A)·op(B) (the conv kernels call it
// from their own parallel loops).
template <typename T>
void Gemm1(const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, bool accumulate) {
  GemmRange<T>(a, ta, b, tb, c, m, k, n, 0, m, 0, n, nullptr, accumulate);
}

// Batched GEMM. The parallel tasks are the batch entries, each cut into `parts` column blocks (or row
// blocks when C is narrow) so that the task count is a multiple of the thread count: 5 equal tasks on
// 2 threads would leave one thread idle for a fifth of the time. When one matrix is cut by columns, A is
// packed once, by all threads together, instead of once by each. Small problems stay on this thread.
template <typename T>
void Gemm(const T* a, const int32_t* aOffs, bool ta, const T* b, const int32_t* bOffs, bool tb, T* c, int batch, int m, int k, int n) {
  double flops = 2.0 * batch * m * k * n;
  int threads = flops < 4e6 ? 1 : ThreadCount();
  if (threads == 1) {
    for (int i = 0; i < batch; i++) Gemm1(a + aOffs[i], ta, b + bOffs[i], tb, c + (int64_t)i * m * n, m, k, n);
    return;
  }
  int parts = batch >= 4 * threads ? 1 : threads / std::gcd(batch, threads);
  bool byCols = n >= 32 * parts || n >= m;
  int extent = byCols ? n : m, align = byCols ? 32 : 12; // whole panels of the widest tile
  int per = ((extent + parts - 1) / parts + align - 1) / align * align;
  parts = std::max(1, (extent + per - 1) / per);
  if (batch == 1 && byCols && parts > 1 && k > 0) {
    int mr = GemmMR(), panels = (m + mr - 1) / mr;
    static thread_local std::vector<T> packed;
    packed.resize((size_t)panels * mr * k);
    T* pk = packed.data();
    int chunk = (panels + threads - 1) / threads;
    RunTasks(threads, [&](int t) { GemmPackA(a, ta, m, k, t * chunk, std::min(panels, (t + 1) * chunk), pk); });
    RunTasks(parts, [&](int q) {
      int lo = q * per, hi = std::min(n, lo + per);
      if (lo < hi) GemmRange(a, ta, b, tb, c, m, k, n, 0, m, lo, hi, (const T*)pk);
    });
    return;
  }
  RunTasks(batch * parts, [&](int t) {
    int i = t / parts, q = t % parts;
    int lo = q * per, hi = std::min(extent, lo + per);
    if (lo >= hi) return;
    T* ci = c + (int64_t)i * m * n;
    if (byCols) GemmRange(a + aOffs[i], ta, b + bOffs[i], tb, ci, m, k, n, 0, m, lo, hi);
    else GemmRange(a + aOffs[i], ta, b + bOffs[i], tb, ci, m, k, n, lo, hi, 0, n);
  });
}

template <typename T>
void GemmMaybeParallel(bool parallel, const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, bool accumulate) {
  if (parallel && !accumulate) {
    int32_t zero = 0;
    Gemm(a, &zero, ta, b, &zero, tb, c, 1, m, k, n);
  } else {
    Gemm1(a, ta, b, tb, c, m, k, n, accumulate);
  }
}

#define INSTANTIATE(T)                                                                                                                \
  template void Gemm<T>(const T*, const int32_t*, bool, const T*, const int32_t*, bool, T*, int, int, int, int);                    \
  template void GemmRange<T>(const T*, bool, const T*, bool, T*, int, int, int, int, int, int, int, const T*, bool);                \
  template void Gemm1<T>(const T*, bool, const T*, bool, T*, int, int, int, bool);                                                   \
  template void GemmMaybeParallel<T>(bool, const T*, bool, const T*, bool, T*, int, int, int, bool);                                 \
  template void DotGemm<T>(const T*, const T*, T*, int, int, int, bool);                                                             \
  template void GemmPackA<T>(const T*, bool, int, int, int, int, T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
