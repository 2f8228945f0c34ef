// Printing tensors the way PyTorch does: tensor([[1., 2.], ...], dtype=..., requires_grad=True).

import type { Tensor } from "../tensor/tensor.js";

function num(v: number, isInt: boolean): string {
  if (isInt) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e8) return `${v}.`;
  if (!Number.isFinite(v)) return String(v).replace("Infinity", "inf").replace("NaN", "nan");
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e8) ? v.toExponential(4) : String(Number(v.toPrecision(4)));
}

export function format(t: Tensor, maxElements = 1000): string {
  const isInt = t.dtype === "int32";
  const { data, shape } = t;
  let body: string;
  if (shape.length === 0) body = num(data[0], isInt);
  else if (data.length > maxElements) body = `[... ${data.length} elements, shape [${shape.join(", ")}] ...]`;
  else {
    let pos = 0;
    const rec = (d: number): string => {
      const parts: string[] = [];
      for (let i = 0; i < shape[d]; i++) parts.push(d === shape.length - 1 ? num(data[pos++], isInt) : rec(d + 1));
      const sep = d === shape.length - 1 ? ", " : ",\n" + " ".repeat(8 + d);
      return `[${parts.join(sep)}]`;
    };
    body = rec(0);
  }
  const extras: string[] = [];
  if (t.dtype === "float64") extras.push("dtype=float64");
  if (t.dtype === "int32") extras.push("dtype=int32");
  if (t.gradFn) extras.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) extras.push("requires_grad=True");
  return `tensor(${body}${extras.length ? ", " + extras.join(", ") : ""})`;
}
