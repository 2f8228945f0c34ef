// The one table of tolerances the tests use, with the reason for each.

export const TOL = {
  /** float32 op vs PyTorch float32: both round each result; our sums accumulate in float64. */
  f32: { rtol: 1e-5, atol: 1e-6 },
  /** float32 results that went through a long reduction (GEMM depth, conv) on both sides. */
  f32Reduce: { rtol: 1e-4, atol: 1e-5 },
  /** float64 vs float64 closed forms. */
  f64: { rtol: 1e-10, atol: 1e-12 },
  /** finite differences in float64 (PyTorch gradcheck defaults). */
  gradcheck: { eps: 1e-6, atol: 1e-5, rtol: 1e-3 },
} as const;
