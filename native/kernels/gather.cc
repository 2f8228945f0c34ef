// Gather and its adjoint scatter-add along the middle axis of [outer, size, inner].
#include <atomic>

#include "base.h"
#include "kernels.h"
#include "threads.h"

namespace nabla {

// Along the middle axis of [outer, size, inner] with idx [outer, idxSize, inner]; outer rows are the
// parallel tasks (scatter-add writes only inside its own row). Returns false on an index outside [0, size).
template <typename T>
bool Gather(const T* x, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t idxSize, T* out) {
  std::atomic<bool> ok{true};
  auto body = [&](int64_t o) {
    const T* xb = x + o * size * inner;
    for (int64_t j = 0; j < idxSize; j++) {
      int64_t ib = (o * idxSize + j) * inner;
      for (int64_t i = 0; i < inner; i++) {
        int32_t k = idx[ib + i];
        if ((uint32_t)k >= (uint64_t)size) { ok = false; out[ib + i] = 0; continue; }
        out[ib + i] = xb[k * inner + i];
      }
    }
  };
  ParallelFor(outer, (double)idxSize * inner, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; o++) body(o);
  });
  return ok;
}

#if defined(__x86_64__) || defined(__i386__)
// The backward of a 2×2 / stride-2 max-pool for one float32 plane [h, w]: each window's 4 inputs are
// written once — the output gradient at the window's index, 0 elsewhere — 16 windows per step, the two
// input rows rebuilt from the 4 per-tap vectors by two-source permutes, no zero-fill pass and no
// read-modify-write. Returns false (having written garbage) if an index is not in its window; the caller
// then scatters that plane the general way.
TARGET_AVX512 static bool Unpool2x2PlaneAvx512(float* out, const int32_t* idx, const float* src, int h, int w, int oh, int ow) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  const __m512i lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int oy = 0; oy < oh; oy++) {
    float* r0 = out + (int64_t)2 * oy * w;
    float* r1 = r0 + w;
    for (int ox = 0; ox < ow; ox += 16) {
      const int n = std::min(16, ow - ox), in = 2 * n;
      const __mmask16 mo = (__mmask16)((1u << n) - 1);
      const __mmask16 m0 = (__mmask16)(in >= 16 ? 0xffffu : (1u << in) - 1), m1 = (__mmask16)(in <= 16 ? 0u : (1u << (in - 16)) - 1);
      const __m512 g = _mm512_maskz_loadu_ps(mo, src + (int64_t)oy * ow + ox);
      const __m512i k = _mm512_maskz_loadu_epi32(mo, idx + (int64_t)oy * ow + ox);
      const __m512i a = _mm512_add_epi32(lane2, _mm512_set1_epi32(2 * oy * w + 2 * ox)), c = _mm512_add_epi32(a, _mm512_set1_epi32(w));
      const __m512i one = _mm512_set1_epi32(1);
      const __mmask16 ma = _mm512_cmpeq_epi32_mask(k, a), mb = _mm512_cmpeq_epi32_mask(k, _mm512_add_epi32(a, one));
      const __mmask16 mc = _mm512_cmpeq_epi32_mask(k, c), md = _mm512_cmpeq_epi32_mask(k, _mm512_add_epi32(c, one));
      if ((__mmask16)((ma | mb | mc | md) & mo) != mo) return false;
      const __m512 va = _mm512_maskz_mov_ps(ma, g), vb = _mm512_maskz_mov_ps(mb, g), vc = _mm512_maskz_mov_ps(mc, g), vd = _mm512_maskz_mov_ps(md, g);
      _mm512_mask_storeu_ps(r0 + 2 * ox, m0, _mm512_permutex2var_ps(va, lo, vb));
      _mm512_mask_storeu_ps(r0 + 2 * ox + 16, m1, _mm512_permutex2var_ps(va, hi, vb));
      _mm512_mask_storeu_ps(r1 + 2 * ox, m0, _mm512_permutex2var_ps(vc, lo, vd));
      _mm512_mask_storeu_ps(r1 + 2 * ox + 16, m1, _mm512_permutex2var_ps(vc, hi, vd));
    }
    for (int x = 2 * ow; x < w; x++) r0[x] = r1[x] = 0; // a last column outside every window
  }
  if (h > 2 * oh) std::memset(out + (int64_t)2 * oh * w, 0, sizeof(float) * (h - 2 * oh) * w);
  return true;
}
#endif

// windows [h, w, oh, ow] (or null): see Backend.scatterAdd.
template <typename T>
bool ScatterAdd(T* out, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t idxSize, const T* src, bool clear,
                const int32_t* windows) {
  std::atomic<bool> ok{true};
  auto body = [&](int64_t o) {
    T* ob = out + o * size * inner;
#if defined(__x86_64__) || defined(__i386__)
    if (windows && clear && inner == 1 && std::is_same<T, float>::value && isa == Isa::kAvx512 &&
        Unpool2x2PlaneAvx512(reinterpret_cast<float*>(ob), idx + o * idxSize, reinterpret_cast<const float*>(src) + o * idxSize, windows[0],
                             windows[1], windows[2], windows[3]))
      return;
#endif
    if (clear) std::memset(ob, 0, sizeof(T) * size * inner);
    for (int64_t j = 0; j < idxSize; j++) {
      int64_t ib = (o * idxSize + j) * inner;
      for (int64_t i = 0; i < inner; i++) {
        int32_t k = idx[ib + i];
        if ((uint32_t)k >= (uint64_t)size) { ok = false; continue; }
        ob[k * inner + i] += src[ib + i];
      }
    }
  };
  ParallelFor(outer, (double)idxSize * inner, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; o++) body(o);
  });
  return ok;
}

#define INSTANTIATE(T)                                                                                     \
  template bool Gather<T>(const T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, T*);            \
  template bool ScatterAdd<T>(T*, int64_t, int64_t, int64_t, const int32_t*, int64_t, const T*, bool, const int32_t*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
