// The kernel list, written once: calls.h builds the argument parsing and the kernel table from it for both
// bindings (napi.cc: the Node addon, wasm.cc: the WebAssembly module), and scripts/gen-addon-types.mjs
// writes the TypeScript side (src/backend/compiled/list.generated.ts) from it. No Node-API here.
//
// K(name, argument kinds, argument names), one letter per argument:
//   f  float array: Float32Array or Float64Array (every float array of a call has the same type)
//   F  the same, or null
//   i  Int32Array                I  Int32Array or null
//   d  Float64Array              g  convolution geometry: Int32Array [n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, o, groups]
//   n  integer in [0, 2^31)      x  number
//   b  boolean
// A name ending in `!` is an array the kernel writes in full without reading it (a WebAssembly caller copies
// it back, and not in); `+`, one it reads and writes (copied in and back): accumulated, partly written, or
// updated in place.
// The convolutions take `fast` (1: fp32Precision "fast") and write the algorithm they took (ConvAlgo,
// kernels/conv.h) into algo[0].
#pragma once

#define NABLA_KERNELS(K)                                                                                              \
  K(matmul, "fibfibfnnn", "a aOffs transA b bOffs transB out! m k n")                                                 \
  K(linear, "ffFbfnnn", "x w bias relu out! m k n")                                                                  \
  K(im2col, "fgxf", "x geom padValue out!")                                                                           \
  K(col2im, "fgf", "cols geom out+")                                                                                  \
  K(unary, "nff", "op x out!")                                                                                        \
  K(reluBackward, "fff", "g y gx!")                                                                                   \
  K(copy, "fnfniii", "src srcOffset dst+ dstOffset shape srcStrides dstStrides")                                      \
  K(reduce, "nfnnnf", "op x outer size inner out!")                                                                   \
  K(argReduce, "nfnnni", "op x outer size inner out!")                                                                \
  K(binary, "nfnfnf", "op a sa b sb out!")                                                                            \
  K(binaryStrided, "nfffiii", "op a b out! shape aStrides bStrides")                                                  \
  K(conv2d, "ffgfFni", "x w geom out! bias fast algo!")                                                               \
  K(conv2dBackwardInput, "ffgfni", "gy w geom gx! fast algo!")                                                        \
  K(conv2dBackwardWeight, "ffgfni", "x gy geom gw! fast algo!")                                                       \
  K(maxPool2dIndices, "fgiF", "x geom idx! values!")                                                                  \
  K(conv2dMaxPool, "ffgFinbIfi", "x w geom bias pool fast relu inPad out! algo!")                                      \
  K(batchNormStats, "fnnndd", "x n c inner mean! variance!")                                                          \
  K(channelAffine, "fnnnddfb", "x n c inner scale shift out! relu")                                                   \
  K(batchNormBackward, "ffnnndddbFddF", "gy x n c inner mean invstd scale training gx! sumG! sumGXhat! reluOut")      \
  K(gather, "fnnninf", "x outer size inner idx idxSize out!")                                                         \
  K(scatterAdd, "fnnninfbI", "out+ outer size inner idx idxSize src clear windows")                                   \
  K(adamUpdate, "ffffFd", "param+ grad expAvg+ expAvgSq+ maxExpAvgSq+ hyper")                                         \
  K(sgdUpdate, "ffFd", "param+ grad momentumBuffer+ hyper")                                                           \
  K(rmspropUpdate, "fffFFd", "param+ grad squareAvg+ gradAvg+ momentumBuffer+ hyper")                                 \
  K(adagradUpdate, "fffd", "param+ grad sum+ hyper")                                                                  \
  K(adadeltaUpdate, "ffffd", "param+ grad squareAvg+ accDelta+ hyper")                                                \
  K(nadamUpdate, "ffffd", "param+ grad expAvg+ expAvgSq+ hyper")                                                      \
  K(adamaxUpdate, "ffffd", "param+ grad expAvg+ expInf+ hyper")

// Op codes and the hyper-parameter layouts of the `hyper` arguments: kernels/ops.h.
#include "../kernels/ops.h"
