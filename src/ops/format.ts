// Printing tensors the way PyTorch does (torch/_tensor_str.py with its default print options): one format
// for every element — integers as `1.`, otherwise 4 decimals, or scientific notation when the magnitudes
// span more than 1000× or leave [1e-4, 1e8] — right-aligned to a common width, rows wrapped at 80
// columns, and tensors of more than 1000 elements summarized by their 3 first and last entries per dim.
// Then the suffixes: dtype when it is not the default, `grad_fn=<...Backward0>` or `requires_grad=True`.

import type { Tensor } from "../tensor/tensor.js";
import { surplus } from "../surplus.js";

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE = 3;
const LINEWIDTH = 80;

/** `x` with `p` decimals (`exp` false) or `p` mantissa decimals (`exp` true), ties to even as Python's format. */
function roundEven(x: number, p: number, exp: boolean): string {
  const s = exp ? x.toExponential(p) : x.toFixed(p);
  const long = exp ? Math.abs(x).toExponential(p + 30) : Math.abs(x).toFixed(p + 30);
  const dot = long.indexOf(".");
  const cut = dot + 1 + p;
  const tail = exp ? long.slice(cut, long.indexOf("e")) : long.slice(cut);
  if (tail !== "5" + "0".repeat(29)) return s;
  // an exact tie: JavaScript rounds away from zero, Python to the even neighbour
  const kept = long.slice(0, p === 0 ? dot : cut);
  if (Number(kept[kept.length - 1]) % 2 === 1) return s;
  return (x < 0 ? "-" : "") + kept + (exp ? long.slice(long.indexOf("e")) : "");
}

/** Python's `{:.4e}`: two exponent digits at least. */
function sci(x: number): string {
  return roundEven(x, PRECISION, true).replace(/e([+-])(\d)$/, "e$10$2");
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return null;
}

class Formatter {
  private intMode = true;
  private sciMode = false;
  width = 1;
  constructor(
    values: ArrayLike<number>,
    private readonly floating: boolean,
  ) {
    if (!floating) {
      for (let i = 0; i < values.length; i++) this.width = Math.max(this.width, String(values[i]).length);
      return;
    }
    const nz: number[] = [];
    for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]) && values[i] !== 0) nz.push(values[i]);
    if (nz.length === 0) return;
    let lo = Infinity,
      hi = 0;
    for (const v of nz) {
      lo = Math.min(lo, Math.abs(v));
      hi = Math.max(hi, Math.abs(v));
      if (v !== Math.ceil(v)) this.intMode = false;
    }
    if (this.intMode) {
      this.sciMode = hi / lo > 1000 || hi > 1e8;
      for (const v of nz) this.width = Math.max(this.width, this.sciMode ? sci(v).length : roundEven(v, 0, false).length + 1);
    } else {
      this.sciMode = hi / lo > 1000 || hi > 1e8 || lo < 1e-4;
      for (const v of nz) this.width = Math.max(this.width, this.sciMode ? sci(v).length : roundEven(v, PRECISION, false).length);
    }
  }
  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else if (special(v) !== null) s = special(v)!;
    else if (this.sciMode) s = sci(v);
    else if (this.intMode) s = (Object.is(v, -0) ? "-0" : roundEven(v, 0, false)) + ".";
    else s = roundEven(v, PRECISION, false);
    return s.padStart(this.width);
  }
}

/** The values the formatter sees: all of them, or the corners kept by summarizing. */
function summarized(data: ArrayLike<number>, shape: readonly number[], summarize: boolean): number[] {
  const out: number[] = [];
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const walk = (d: number, off: number) => {
    if (d === shape.length) {
      out.push(data[off]);
      return;
    }
    const n = shape[d];
    const idx = summarize && n > 2 * EDGE ? [0, 1, 2, n - 3, n - 2, n - 1] : Array.from({ length: n }, (_, i) => i);
    for (const i of idx) walk(d + 1, off + i * strides[d]);
  };
  walk(0, 0);
  return out;
}

export function format(t: Tensor): string {
  if (arguments.length > 1) surplus(arguments, "format(t)");
  const { data, shape } = t;
  const floating = t.dtype !== "int32";
  const summarize = data.length > THRESHOLD;
  const fmt = new Formatter(summarized(data, shape, summarize), floating);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const vector = (off: number, indent: number): string => {
    const n = shape[shape.length - 1];
    const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (fmt.width + 2)));
    const items: string[] = [];
    const at = (i: number) => fmt.format(data[off + i]);
    if (summarize && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) items.push(at(i));
      items.push(" ...");
      for (let i = n - EDGE; i < n; i++) items.push(at(i));
    } else for (let i = 0; i < n; i++) items.push(at(i));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
    return "[" + lines.join(",\n" + " ".repeat(indent + 1)) + "]";
  };
  const rec = (d: number, off: number, indent: number): string => {
    if (d === shape.length - 1) return vector(off, indent);
    const n = shape[d];
    const parts: string[] = [];
    const sub = (i: number) => rec(d + 1, off + i * strides[d], indent + 1);
    if (summarize && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) parts.push(sub(i));
      parts.push("...");
      for (let i = n - EDGE; i < n; i++) parts.push(sub(i));
    } else for (let i = 0; i < n; i++) parts.push(sub(i));
    return "[" + parts.join("," + "\n".repeat(shape.length - d - 1) + " ".repeat(indent + 1)) + "]";
  };
  const prefix = "tensor(";
  const indent = prefix.length;
  const suffixes: string[] = [];
  let body: string;
  if (data.length === 0) {
    body = "[]";
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(", ")}${shape.length === 1 ? "," : ""})`);
  } else if (shape.length === 0) body = fmt.format(data[0]).trim();
  else body = rec(0, 0, indent);
  if (t.dtype === "float64") suffixes.push("dtype=float64");
  if (t.gradFn) suffixes.push(`grad_fn=<${gradFnLabel(t.gradFn)}>`);
  else if (t.requiresGrad) suffixes.push("requires_grad=True");
  // PyTorch's _add_suffixes: a suffix that would pass the line width starts a new line
  let s = prefix + body;
  let last = s.length - s.lastIndexOf("\n") + 1;
  for (const x of suffixes) {
    if (last + x.length + 2 > LINEWIDTH) {
      s += ",\n" + " ".repeat(indent) + x;
      last = indent + x.length;
    } else {
      s += ", " + x;
      last += x.length + 2;
    }
  }
  return s + ")";
}

/** PyTorch's node names for nabla's primitives (ops that set their own, such as the losses, override them). */
const PRIM_NAMES: Record<string, string> = {
  matmul: "MmBackward0",
  reshape: "ViewBackward0",
  slice: "SliceBackward0",
  unslice: "SliceBackwardBackward0",
  cast: "ToCopyBackward0",
  maxDim: "MaxBackward0",
  pad: "ConstantPadNdBackward0",
  clamp: "ClampBackward1",
  scatterAdd: "ScatterAddBackward0",
  conv2d: "ConvolutionBackward0",
  batchNorm: "NativeBatchNormBackward0",
  im2col: "Im2ColBackward0",
  col2im: "Col2ImBackward0",
  sum: "SumBackward1",
};

/** The name printed for a node: the one its op set, or PyTorch's name for its primitive. */
export function gradFnLabel(node: { name: string; label: string | null }): string {
  return node.label ?? PRIM_NAMES[node.name] ?? node.name[0].toUpperCase() + node.name.slice(1) + "Backward0";
}

/** Give the node that produced `out` PyTorch's name for it (`NllLossBackward0`), for printing. */
export function labelGradFn<T extends Tensor>(out: T, label: string): T {
  if (out.gradFn) out.gradFn.label = label;
  return out;
}
