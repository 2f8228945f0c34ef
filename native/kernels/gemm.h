// GEMM entry points (gemm.cc): the batched, threaded GEMM behind matmul, and the single-threaded pieces
// the convolution kernels call from their own parallel loops.
#pragma once

#include <cstdint>

namespace nabla {

// Batched GEMM: C_i[m×n] = op(A)[m×k] · op(B)[k×n] with A_i = a + aOffs[i], B_i = b + bOffs[i], C_i = c + i·m·n.
template <typename T>
void Gemm(const T* a, const int32_t* aOffs, bool ta, const T* b, const int32_t* bOffs, bool tb, T* c, int batch, int m, int k, int n);

// The block [i0, i1) × [j0, j1) of C = op(A)·op(B) (or C += with accumulate) on this thread; packedA is A
// as GemmPackA lays it out, or null.
template <typename T>
void GemmRange(const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, int i0, int i1, int j0, int j1, const T* packedA = nullptr,
               bool accumulate = false);

// Single-threaded GEMM of one matrix pair, C = op(A)·op(B) or C += op(A)·op(B).
template <typename T>
void Gemm1(const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, bool accumulate = false);

// One matrix pair on this thread, or spread over the threads when `parallel` (and not accumulating).
template <typename T>
void GemmMaybeParallel(bool parallel, const T* a, bool ta, const T* b, bool tb, T* c, int m, int k, int n, bool accumulate = false);

// C[i][j] = (C[i][j] +) Σ_p A[i][p]·B[j][p], both operands contiguous along p (B given as its transpose).
template <typename T>
void DotGemm(const T* a, const T* b, T* c, int m, int k, int n, bool acc);

// Rows per A panel of the current ISA's tile.
int GemmMR();

// Pack the MR-row panels [q0, q1) of op(A) into dst in the layout GemmRange takes as packedA.
template <typename T>
void GemmPackA(const T* a, bool ta, int m, int k, int q0, int q1, T* dst);

}  // namespace nabla
