// js backend: cache-blocked GEMM with packed panels and a 4x4 register-tiled micro-kernel.

import type { TypedArray } from "../../tensor/dtype.js";

const MR = 4; // rows of the register tile
const NR = 4; // columns of the register tile
const KC = 256; // depth of a packed block (A panel 4·KC and B panel 4·KC doubles stay in L1)
const MC = 64; // rows of A packed at once (MC·KC doubles ≈ 128 KiB, in L2)

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(NR * KC);

/**
 * Pack rows [i0, i0+mc) × depth [p0, p0+kc) of A into MR-row panels, k-major within a panel:
 * packA[panel·MR·kc + p·MR + r] = A[i0 + panel·MR + r, p0 + p] (zero past the last row).
 */
function packARows(a: TypedArray, off: number, trans: boolean, m: number, k: number, i0: number, mc: number, p0: number, kc: number): void {
  const panels = Math.ceil(mc / MR);
  for (let pn = 0; pn < panels; pn++) {
    const base = pn * MR * kc;
    for (let r = 0; r < MR; r++) {
      const i = i0 + pn * MR + r;
      if (i >= i0 + mc) {
        for (let p = 0; p < kc; p++) packA[base + p * MR + r] = 0;
      } else if (!trans) {
        const row = off + i * k + p0; // A is [m, k]
        for (let p = 0; p < kc; p++) packA[base + p * MR + r] = a[row + p];
      } else {
        const col = off + p0 * m + i; // A stored as [k, m]
        for (let p = 0; p < kc; p++) packA[base + p * MR + r] = a[col + p * m];
      }
    }
  }
}

/** Pack columns [j0, j0+NR) × depth [p0, p0+kc) of B: packB[p·NR + c] = B[p0 + p, j0 + c]. */
function packBCols(b: TypedArray, off: number, trans: boolean, k: number, n: number, j0: number, p0: number, kc: number): void {
  for (let c = 0; c < NR; c++) {
    const j = j0 + c;
    if (j >= n) {
      for (let p = 0; p < kc; p++) packB[p * NR + c] = 0;
    } else if (!trans) {
      const col = off + p0 * n + j; // B is [k, n]
      for (let p = 0; p < kc; p++) packB[p * NR + c] = b[col + p * n];
    } else {
      const row = off + j * k + p0; // B stored as [n, k]
      for (let p = 0; p < kc; p++) packB[p * NR + c] = b[row + p];
    }
  }
}

/** C[i0.., j0..] (+)= packed A panel × packed B panel over kc, a 4x4 tile held in 16 locals. */
function microKernel(
  aBase: number,
  kc: number,
  c: TypedArray,
  cOff: number,
  ldc: number,
  rows: number,
  cols: number,
  accumulate: boolean,
): void {
  const A = packA,
    B = packB;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  let ai = aBase,
    bi = 0;
  for (let p = 0; p < kc; p++, ai += 4, bi += 4) {
    const a0 = A[ai],
      a1 = A[ai + 1],
      a2 = A[ai + 2],
      a3 = A[ai + 3];
    const b0 = B[bi],
      b1 = B[bi + 1],
      b2 = B[bi + 2],
      b3 = B[bi + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    let o = cOff;
    if (accumulate) {
      c[o] += c00;
      c[o + 1] += c01;
      c[o + 2] += c02;
      c[o + 3] += c03;
      o += ldc;
      c[o] += c10;
      c[o + 1] += c11;
      c[o + 2] += c12;
      c[o + 3] += c13;
      o += ldc;
      c[o] += c20;
      c[o + 1] += c21;
      c[o + 2] += c22;
      c[o + 3] += c23;
      o += ldc;
      c[o] += c30;
      c[o + 1] += c31;
      c[o + 2] += c32;
      c[o + 3] += c33;
    } else {
      c[o] = c00;
      c[o + 1] = c01;
      c[o + 2] = c02;
      c[o + 3] = c03;
      o += ldc;
      c[o] = c10;
      c[o + 1] = c11;
      c[o + 2] = c12;
      c[o + 3] = c13;
      o += ldc;
      c[o] = c20;
      c[o + 1] = c21;
      c[o + 2] = c22;
      c[o + 3] = c23;
      o += ldc;
      c[o] = c30;
      c[o + 1] = c31;
      c[o + 2] = c32;
      c[o + 3] = c33;
    }
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const o = cOff + r * ldc + q;
      c[o] = accumulate ? c[o] + t[r * 4 + q] : t[r * 4 + q];
    }
  }
}

/** One GEMM: C[m, n] = op(A)[m, k] · op(B)[k, n], C contiguous at cOff. */
export function gemm(
  a: TypedArray,
  aOff: number,
  transA: boolean,
  b: TypedArray,
  bOff: number,
  transB: boolean,
  c: TypedArray,
  cOff: number,
  m: number,
  k: number,
  n: number,
): void {
  if (k === 0) {
    c.fill(0, cOff, cOff + m * n);
    return;
  }
  const kcMax = Math.min(KC, k);
  if (packA.length < MC * kcMax) packA = new Float64Array(MC * kcMax);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    const accumulate = p0 > 0;
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      packARows(a, aOff, transA, m, k, i0, mc, p0, kc);
      for (let j0 = 0; j0 < n; j0 += NR) {
        packBCols(b, bOff, transB, k, n, j0, p0, kc);
        const cols = Math.min(NR, n - j0);
        for (let ir = 0; ir < mc; ir += MR) {
          const rows = Math.min(MR, mc - ir);
          microKernel(ir * kc, kc, c, cOff + (i0 + ir) * n + j0, n, rows, cols, accumulate);
        }
      }
    }
  }
}

export function matmul(
  a: TypedArray,
  aOffs: Int32Array,
  transA: boolean,
  b: TypedArray,
  bOffs: Int32Array,
  transB: boolean,
  out: TypedArray,
  m: number,
  k: number,
  n: number,
): void {
  for (let i = 0; i < aOffs.length; i++) gemm(a, aOffs[i], transA, b, bOffs[i], transB, out, i * m * n, m, k, n);
}
