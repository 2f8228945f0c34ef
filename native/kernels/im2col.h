// Unfolding (im2col) and its adjoint (col2im) over [N, C, H, W] inputs (im2col.cc).
#pragma once

#include <algorithm>
#include <cstdint>

namespace nabla {

// Geometry of an unfold: input [n, c, h, w], kernel kh×kw, stride, padding, dilation, output oh×ow.
struct Geom {
  int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};

// The output columns ox whose input column ix = ix0 + ox·sw lies in [0, w): [lo, hi).
inline void ValidRange(int ix0, int sw, int w, int ow, int* lo, int* hi) {
  int l = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw;
  int h = ix0 >= w ? 0 : (w - ix0 + sw - 1) / sw;
  *lo = std::min(l, ow);
  *hi = std::max(*lo, std::min(h, ow));
}

// One input channel plane [h, w] → its kh·kw rows of oh·ow columns, row r at out + r·ld (out-of-range reads give pad).
template <typename T>
void Im2colPlane(const T* xb, const Geom& g, T pad, T* out, int64_t ld);
// Adjoint of Im2colPlane: add the kh·kw rows back into the plane (which the caller zeroed).
template <typename T>
void Col2imPlane(const T* cols, const Geom& g, T* xb, int64_t ld);
// x [n, c, h, w] → columns [n, c·kh·kw, oh·ow].
template <typename T>
void Im2col(const T* x, const Geom& g, T pad, T* out);
// columns [n, c·kh·kw, oh·ow] → out [n, c, h, w] (zero-filled by the caller; the columns are added).
template <typename T>
void Col2im(const T* cols, const Geom& g, T* out);

}  // namespace nabla
