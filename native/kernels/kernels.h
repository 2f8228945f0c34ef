// The kernels' entry points: what a binding (Node-API, WebAssembly) calls. Every array is contiguous and
// row-major, its length already checked by the caller; float kernels are instantiated for float and double.
#pragma once

#include <cstdint>

#include "base.h"     // isa, IsaName
#include "conv.h"
#include "im2col.h"
#include "ops.h"
#include "threads.h"  // StartThreads, ThreadCount

namespace nabla {

// ---- GEMM (gemm.cc)
template <typename T>
void Gemm(const T* a, const int32_t* aOffs, bool ta, const T* b, const int32_t* bOffs, bool tb, T* c, int batch, int m, int k, int n);

// ---- convolution (conv.cc) and unfolding (im2col.cc)
// Each returns the algorithm it took.
template <typename T>
ConvAlgo ConvForward(const T* x, const T* w, const ConvGeom& cg, T* out, const T* bias);
template <typename T>
ConvAlgo ConvBackwardInput(const T* gy, const T* w, const ConvGeom& cg, T* gx);
template <typename T>
ConvAlgo ConvBackwardWeight(const T* x, const T* gy, const ConvGeom& cg, T* gw);

// ---- pooling (pooling.cc): per output, the flat index of the first largest input of its window and its value
// (either may be null)
template <typename T>
void MaxPoolIndices(const T* x, const Geom& g, int32_t* idx, T* vals);
// convolution then max pooling over its output planes (pool.n = N·O, pool.h/w = the convolution's oh/ow),
// then ReLU with `relu`, into out [N, O, pool.oh, pool.ow]; the convolution's output is scratch. With inPad
// [top, bottom, left, right], x is zero-padded by that much first (cg describes the padded input).
// Returns the convolution's algorithm.
template <typename T>
ConvAlgo ConvMaxPool(const T* x, const T* w, const ConvGeom& cg, const T* bias, const Geom& pool, bool relu, T* out, const int32_t* inPad);

// ---- gather / scatter-add along the middle axis of [outer, size, inner] (gather.cc); false: an index out of range
template <typename T>
bool Gather(const T* x, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t idxSize, T* out);
template <typename T>
bool ScatterAdd(T* out, int64_t outer, int64_t size, int64_t inner, const int32_t* idx, int64_t idxSize, const T* src, bool clear,
                const int32_t* windows);

// ---- batch normalization over [n, c, inner] (batchnorm.cc)
template <typename T>
void BatchNormStats(const T* x, int64_t n, int64_t c, int64_t inner, double* mean, double* var);
template <typename T>
void ChannelAffine(const T* x, int64_t n, int64_t c, int64_t inner, const double* scale, const double* shift, T* out, bool relu);
template <typename T>
void BatchNormBackward(const T* gy, const T* x, int64_t n, int64_t c, int64_t inner, const double* mean, const double* invstd,
                       const double* scale, bool training, T* gx, double* sumG, double* sumGX, const T* reluOut);

// ---- optimizer updates, in place (optim.cc)
struct AdamHyper {
  double lr, b1, b2, eps, wd, step;
  bool decoupled, maximize;
};

struct SgdHyper {
  double lr, mu, dampening, wd;
  bool nesterov, maximize, first;
};

template <typename T>
void AdamUpdate(T* th, const T* gr, T* m, T* v, T* vmax, int64_t n, const AdamHyper& h);
template <typename T>
void SgdUpdate(T* th, const T* gr, T* buf, int64_t n, const SgdHyper& h);
// The other optimizers' hyper-parameters: structs of doubles in the order of their ops.h lists (a flag is ≠ 0).
#define NABLA_HYPER_FIELD(name) double name;
struct RmspropHyper { NABLA_RMSPROP_HYPER(NABLA_HYPER_FIELD) };
struct AdagradHyper { NABLA_ADAGRAD_HYPER(NABLA_HYPER_FIELD) };
struct AdadeltaHyper { NABLA_ADADELTA_HYPER(NABLA_HYPER_FIELD) };
struct NadamHyper { NABLA_NADAM_HYPER(NABLA_HYPER_FIELD) };
struct AdamaxHyper { NABLA_ADAMAX_HYPER(NABLA_HYPER_FIELD) };
#undef NABLA_HYPER_FIELD
template <typename T>
void RmspropUpdate(T* th, const T* gr, T* v, T* ga, T* buf, int64_t n, const RmspropHyper& h);
template <typename T>
void AdagradUpdate(T* th, const T* gr, T* sum, int64_t n, const AdagradHyper& h);
template <typename T>
void AdadeltaUpdate(T* th, const T* gr, T* v, T* u, int64_t n, const AdadeltaHyper& h);
template <typename T>
void NadamUpdate(T* th, const T* gr, T* m, T* v, int64_t n, const NadamHyper& h);
template <typename T>
void AdamaxUpdate(T* th, const T* gr, T* m, T* u, int64_t n, const AdamaxHyper& h);

// ---- elementwise (elementwise.cc); op codes k_<name> from ops.h
#define NABLA_OP_ENUM(name) k_##name,
enum UnaryOp { NABLA_UNARY_OPS(NABLA_OP_ENUM) };
enum BinaryOp { NABLA_BINARY_OPS(NABLA_OP_ENUM) };
#undef NABLA_OP_ENUM
template <typename T>
void Unary(int op, const T* x, T* out, int64_t n);
// gx = g·(y > 0 ? 1 : 0)
template <typename T>
void ReluBackward(const T* g, const T* y, T* gx, int64_t n);
// Contiguous operands, sa / sb 1 (elementwise) or 0 (a broadcast scalar).
template <typename T>
void Binary(int op, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n);
// Operands read through per-dim strides over the collapsed output shape [nd].
template <typename T>
void BinaryStrided(int op, const T* a, const T* b, T* o, const int32_t* shape, const int32_t* sa, const int32_t* sb, int nd);
// dst[Σ i_k·dstStrides_k] = src[Σ i_k·srcStrides_k] over a collapsed shape [nd].
template <typename T>
void Copy(const T* src, T* dst, const int32_t* shape, const int32_t* srcStrides, const int32_t* dstStrides, int nd);

// ---- reductions along the middle axis of [outer, size, inner] (reduce.cc): 0 sum, 1 max, 2 min; 0 argmax, 1 argmin
template <typename T>
void Reduce(int op, const T* x, int64_t outer, int64_t size, int64_t inner, T* out);
template <typename T>
void ArgReduce(int op, const T* x, int64_t outer, int64_t size, int64_t inner, int32_t* out);

}  // namespace nabla
