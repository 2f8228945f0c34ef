// The float32 precision setting, in PyTorch's shape (`torch.backends.fp32_precision` and the per-op
// `torch.backends.cudnn.conv.fp32_precision`): "ieee" (the default) keeps every kernel's float32 numerics
// exact to PyTorch's; "fast" lets a backend take a faster algorithm within its documented error bound
// (the native backend: Winograd F(4×4, 3×3) for 3×3 stride-1 convolutions). float64 never changes.
// And the log of which algorithm each convolution call took (`convAlgorithms`).

import type { ConvGeometry } from "./backend.js";

export type Fp32Precision = "ieee" | "fast";
/** A per-op setting: "none" inherits the global one. */
export type OpFp32Precision = Fp32Precision | "none";

let globalPrecision: Fp32Precision = "ieee";
let convPrecision: OpFp32Precision = "none";

function check<T extends string>(what: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new TypeError(
      `${what} must be ${allowed.map((a) => `'${a}'`).join(" or ")}, got ${typeof v === "string" ? `'${v}'` : String(v)}`,
    );
  }
  return v as T;
}

export function getFp32Precision(): Fp32Precision {
  return globalPrecision;
}
export function setFp32Precision(value: Fp32Precision): void {
  globalPrecision = check("nb.backend.fp32Precision", value, ["ieee", "fast"]);
}
export function getConvFp32Precision(): OpFp32Precision {
  return convPrecision;
}
export function setConvFp32Precision(value: OpFp32Precision): void {
  convPrecision = check("nb.backend.conv.fp32Precision", value, ["ieee", "fast", "none"]);
}
/** The precision a float32 convolution runs at now: the conv override unless "none", else the global one. */
export function effectiveConvPrecision(): Fp32Precision {
  return convPrecision === "none" ? globalPrecision : convPrecision;
}

/** The algorithms a convolution kernel can report (the js backend: "im2col"). */
export type ConvAlgorithm = "im2col" | "direct" | "winograd-f2x2" | "winograd-f4x4";

/** One convolution kernel call, as `convAlgorithms` lists it. */
export interface ConvAlgorithmRecord {
  /** forward, or the gradient with respect to the input or the weight */
  pass: "forward" | "input" | "weight";
  /** [N, C, H, W] of the convolution's input and [O, C/groups, kh, kw] of its weight */
  input: number[];
  weight: number[];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  dtype: "float32" | "float64";
  /** the precision in force for the call ("ieee" or "fast") */
  fp32Precision: Fp32Precision;
  backend: string;
  algorithm: ConvAlgorithm | "unreported";
}

let log: ConvAlgorithmRecord[] | null = null;

/** Called by the convolution primitives after each kernel call; a no-op unless `convAlgorithms` is running. */
export function noteConvAlgorithm(
  pass: ConvAlgorithmRecord["pass"],
  g: ConvGeometry,
  dtype: string,
  backend: string,
  algorithm: ConvAlgorithm | void,
): void {
  if (log === null) return;
  log.push({
    pass,
    input: [g.n, g.c, g.h, g.w],
    weight: [g.o, g.c / g.groups, g.kh, g.kw],
    stride: [g.sh, g.sw],
    padding: [g.ph, g.pw],
    dilation: [g.dh, g.dw],
    groups: g.groups,
    dtype: dtype as "float32" | "float64",
    fp32Precision: effectiveConvPrecision(),
    backend,
    algorithm: algorithm ?? "unreported",
  });
}

/**
 * Run `fn` and list every convolution kernel call it made (forward and gradients) with the algorithm the
 * backend took for it — which layers ran Winograd F(2×2) or F(4×4), direct or im2col + GEMM.
 */
export function convAlgorithms(fn: () => void): ConvAlgorithmRecord[] {
  if (typeof fn !== "function") throw new TypeError(`convAlgorithms: fn must be a function, got ${typeof fn}`);
  const outer = log;
  const mine: ConvAlgorithmRecord[] = [];
  log = mine;
  try {
    fn();
  } finally {
    log = outer;
    if (outer) outer.push(...mine);
  }
  return mine;
}
