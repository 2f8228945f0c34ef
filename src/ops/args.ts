// Argument forms shared by the functional ops. Each takes its settings as one trailing options object
// (`conv2d(x, w, { bias, padding: 1 })`); the common ones also take PyTorch's positional order
// (`conv2d(x, w, bias, stride, padding)`). Anything else in an options slot — a Tensor, a number, a
// string — is a positional argument the op does not take, and an error: it was silently ignored.
import { Tensor } from "../tensor/tensor.js";

/** True for a plain options object: not a Tensor, an array (a pair), null or a primitive. */
export function isOptions(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !(v instanceof Tensor) && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor of shape [${v.shape.join(", ")}]`;
  if (Array.isArray(v)) return `an array [${v.join(", ")}]`;
  return v === null ? "null" : `${typeof v} ${String(v)}`;
}

/** The options object in its slot (undefined → {}), or a TypeError that names what was there instead. */
export function optionsArg<T extends object>(v: unknown, op: string, form: string): T {
  if (v === undefined) return {} as T;
  if (!isOptions(v)) throw new TypeError(`${op}: expected an options object ${form} here, got ${describe(v)}`);
  return v as T;
}

/**
 * Settings given either as one options object in the first slot, or positionally (PyTorch's order, `names`),
 * optionally ending in an options object for the rest.
 */
export function positionalOptions<T extends object>(op: string, names: readonly (keyof T & string)[], args: readonly unknown[]): T {
  const last = args.findIndex((a) => isOptions(a));
  if (last >= 0 && args.slice(last + 1).some((a) => a !== undefined)) {
    throw new TypeError(
      `${op}: the options object must be the last argument (got ${describe(args[last + 1 + args.slice(last + 1).findIndex((a) => a !== undefined)])} after it)`,
    );
  }
  if (args.length > names.length && args.slice(names.length).some((a) => a !== undefined)) {
    throw new TypeError(`${op}: takes at most ${names.length} settings after its inputs (${names.join(", ")}), got ${args.length}`);
  }
  const out: Record<string, unknown> = last >= 0 ? { ...(args[last] as object) } : {};
  const positional = last >= 0 ? last : args.length;
  for (let i = 0; i < positional; i++) {
    if (args[i] === undefined) continue;
    if (names[i] in out) throw new TypeError(`${op}: ${names[i]} is given both positionally and in the options object`);
    out[names[i]] = args[i];
  }
  return out as T;
}

/** A weighted loss's options; PyTorch's third positional argument, the weight Tensor, is taken as `{ weight }`. */
export function weightOrOptions<T extends { weight?: Tensor | null }>(v: unknown, op: string): T {
  return v instanceof Tensor ? ({ weight: v } as T) : optionsArg<T>(v, op, "{ weight, reduction, … } (or the weight Tensor)");
}
