// im2col / col2im: one channel plane per task.
#include "base.h"
#include "im2col.h"
#include "threads.h"

namespace nabla {

// Unfold one input channel plane [h, w] into its kh·kw rows of oh·ow columns; row r starts at o + r·ld
// (ld = oh·ow when the rows are packed, larger when several samples share each row).
template <typename T>
void Im2colPlane(const T* xb, const Geom& g, T pad, T* out, int64_t ld) {
  for (int ki = 0; ki < g.kh; ki++)
    for (int kj = 0; kj < g.kw; kj++) {
      int ix0 = kj * g.dw - g.pw, lo, hi;
      ValidRange(ix0, g.sw, g.w, g.ow, &lo, &hi);
      T* o = out + (int64_t)(ki * g.kw + kj) * ld;
      for (int oy = 0; oy < g.oh; oy++, o += g.ow) {
        int iy = oy * g.sh - g.ph + ki * g.dh;
        if (iy < 0 || iy >= g.h) {
          for (int ox = 0; ox < g.ow; ox++) o[ox] = pad;
          continue;
        }
        const T* row = xb + (int64_t)iy * g.w + ix0;
        for (int ox = 0; ox < lo; ox++) o[ox] = pad;
        if (g.sw == 1)
          for (int ox = lo; ox < hi; ox++) o[ox] = row[ox];
        else
          for (int ox = lo; ox < hi; ox++) o[ox] = row[(int64_t)ox * g.sw];
        for (int ox = hi; ox < g.ow; ox++) o[ox] = pad;
      }
    }
}

// Adjoint of Im2colPlane: add the kh·kw rows back into the plane (which the caller zeroed).
template <typename T>
void Col2imPlane(const T* cols, const Geom& g, T* xb, int64_t ld) {
  for (int ki = 0; ki < g.kh; ki++)
    for (int kj = 0; kj < g.kw; kj++) {
      int ix0 = kj * g.dw - g.pw, lo, hi;
      ValidRange(ix0, g.sw, g.w, g.ow, &lo, &hi);
      const T* o = cols + (int64_t)(ki * g.kw + kj) * ld;
      for (int oy = 0; oy < g.oh; oy++, o += g.ow) {
        int iy = oy * g.sh - g.ph + ki * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        T* row = xb + (int64_t)iy * g.w + ix0;
        if (g.sw == 1)
          for (int ox = lo; ox < hi; ox++) row[ox] += o[ox];
        else
          for (int ox = lo; ox < hi; ox++) row[(int64_t)ox * g.sw] += o[ox];
      }
    }
}

template <typename T>
void Im2col(const T* x, const Geom& g, T pad, T* out) {
  int64_t rows = (int64_t)g.c * g.kh * g.kw, L = (int64_t)g.oh * g.ow;
  int tasks = g.n * g.c;
  auto body = [&](int t) {
    int b = t / g.c, ch = t % g.c;
    Im2colPlane(x + ((int64_t)b * g.c + ch) * g.h * g.w, g, pad, out + ((int64_t)b * rows + (int64_t)ch * g.kh * g.kw) * L, L);
  };
  if ((int64_t)g.n * rows * L < 200000)
    for (int t = 0; t < tasks; t++) body(t);
  else
    RunTasks(tasks, body);
}

template <typename T>
void Col2im(const T* cols, const Geom& g, T* out) {
  int64_t rows = (int64_t)g.c * g.kh * g.kw, L = (int64_t)g.oh * g.ow;
  int tasks = g.n * g.c; // each task owns one output channel plane: no write conflicts
  auto body = [&](int t) {
    int b = t / g.c, ch = t % g.c;
    Col2imPlane(cols + ((int64_t)b * rows + (int64_t)ch * g.kh * g.kw) * L, g, out + ((int64_t)b * g.c + ch) * g.h * g.w, L);
  };
  if ((int64_t)g.n * rows * L < 200000)
    for (int t = 0; t < tasks; t++) body(t);
  else
    RunTasks(tasks, body);
}

#define INSTANTIATE(T)                                                  \
  template void Im2colPlane<T>(const T*, const Geom&, T, T*, int64_t); \
  template void Col2imPlane<T>(const T*, const Geom&, T*, int64_t);    \
  template void Im2col<T>(const T*, const Geom&, T, T*);               \
  template void Col2im<T>(const T*, const Geom&, T*);
NABLA_FOR_FLOATS(INSTANTIATE)

}  // namespace nabla
