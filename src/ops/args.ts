// Argument forms shared by the functional ops. Each takes its settings as one trailing options object
// (`conv2d(x, w, { bias, padding: 1 })`); the common ones also take PyTorch's positional order
// (`conv2d(x, w, bias, stride, padding)`). Anything else in an options slot — a Tensor, a number, a
// string — is a positional argument the op does not take, and an error: it was silently ignored.
import { Tensor } from "../tensor/tensor.js";

/** True for a plain options object (`{ … }`): not a Tensor, a module, an optimizer, an array (a pair), null or a primitive. */
export function isOptions(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A value as an error message shows it (short, never recursing into nested input). */
export function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor of shape [${v.shape.join(", ")}]`;
  if (Array.isArray(v))
    return v.length <= 8 && v.every((e) => typeof e !== "object" || e === null) ? `an array [${v.join(", ")}]` : `an array of ${v.length}`;
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === "object" && v !== null) return isOptions(v) ? "an options object" : `a ${v.constructor?.name ?? "object"}`;
  return v === null ? "null" : `${typeof v} ${String(v)}`;
}

/** A TypeError for an options key `op` does not take, with a did-you-mean when one is close. */
export function checkKeys(op: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (keys.includes(k)) continue;
    const hint = closest(k, keys);
    throw new TypeError(
      `${op}: unknown option ${JSON.stringify(k)}${hint ? ` (did you mean ${hint}?)` : ""}; it takes ${keys.length ? keys.join(", ") : "none"}`,
    );
  }
}

/** The options object in its slot (undefined → {}) with only the `keys` it may hold, or a TypeError naming what was wrong. */
export function optionsArg<T extends object>(v: unknown, op: string, keys: readonly (keyof T & string)[]): T {
  if (v === undefined) return {} as T;
  if (!isOptions(v)) throw new TypeError(`${op}: expected an options object { ${keys.join(", ")} } here, got ${describe(v)}`);
  checkKeys(op, v, keys);
  return v as T;
}

/**
 * Settings given either as one options object in the first slot, or positionally (PyTorch's order, `names`),
 * optionally ending in an options object for the rest. `keywordOnly` names settings the options object may
 * also hold; any other key is a TypeError.
 */
export function positionalOptions<T extends object>(
  op: string,
  names: readonly (keyof T & string)[],
  args: readonly unknown[],
  keywordOnly: readonly (keyof T & string)[] = [],
): T {
  const last = args.findIndex((a) => isOptions(a));
  if (last >= 0 && args.slice(last + 1).some((a) => a !== undefined)) {
    throw new TypeError(
      `${op}: the options object must be the last argument (got ${describe(args[last + 1 + args.slice(last + 1).findIndex((a) => a !== undefined)])} after it)`,
    );
  }
  const positional = last >= 0 ? last : args.length;
  if (positional > names.length && args.slice(names.length, positional).some((a) => a !== undefined)) {
    throw new TypeError(`${op}: takes at most ${names.length} settings after its inputs (${names.join(", ")}), got ${positional}`);
  }
  if (last >= 0) checkKeys(op, args[last] as Record<string, unknown>, [...names, ...keywordOnly]);
  const out: Record<string, unknown> = last >= 0 ? { ...(args[last] as object) } : {};
  for (let i = 0; i < positional; i++) {
    if (args[i] === undefined) continue;
    if (names[i] in out) throw new TypeError(`${op}: ${names[i]} is given both positionally and in the options object`);
    out[names[i]] = args[i];
  }
  return out as T;
}

/** A weighted loss's options; PyTorch's third positional argument, the weight Tensor, is taken as `{ weight }`. */
export function weightOrOptions<T extends { weight?: Tensor | null }>(v: unknown, op: string, keys: readonly (keyof T & string)[]): T {
  if (v instanceof Tensor) return { weight: v } as T;
  if (v !== undefined && !isOptions(v))
    throw new TypeError(`${op}: expected the weight Tensor or an options object { ${keys.join(", ")} } here, got ${describe(v)}`);
  return optionsArg<T>(v, op, keys);
}

/** A check of one argument: null when `v` is acceptable, else what was expected ("an integer ≥ 1"). */
export type Check = (v: unknown) => string | null;

/** One parameter of a constructor or factory, in PyTorch's positional order. */
export interface Param {
  name: string;
  check: Check;
  /** Required: missing is a TypeError (default false). */
  required?: boolean;
  /** Only by name, in the options object (Python's keyword-only arguments, after `*`). */
  keywordOnly?: boolean;
}

/** Checks for the argument kinds the public API takes. */
export const checks = {
  int:
    (min = -Infinity): Check =>
    (v) =>
      Number.isSafeInteger(v) && (v as number) >= min ? null : min === -Infinity ? "an integer" : `an integer ≥ ${min}`,
  number:
    (min = -Infinity): Check =>
    (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= min ? null : min === -Infinity ? "a finite number" : `a finite number ≥ ${min}`,
  bool: ((v) => (typeof v === "boolean" ? null : "true or false")) as Check,
  /** An integer ≥ min, or a pair of them (PyTorch's `_pair`). */
  pair:
    (min = 0): Check =>
    (v) => {
      const ok = (e: unknown) => Number.isSafeInteger(e) && (e as number) >= min;
      return ok(v) || (Array.isArray(v) && v.length === 2 && v.every(ok)) ? null : `an integer ≥ ${min} or a pair of them`;
    },
  /** An integer (any sign), or 4 of them: a 2-D pad's [left, right, top, bottom] (PyTorch's `_quadruple`). */
  quad: ((v) =>
    Number.isSafeInteger(v) || (Array.isArray(v) && v.length === 4 && v.every((e) => Number.isSafeInteger(e)))
      ? null
      : "an integer or 4 integers [left, right, top, bottom]") as Check,
  oneOf:
    (...values: unknown[]): Check =>
    (v) =>
      values.includes(v) ? null : `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`,
  dtype: ((v) => (v === "float32" || v === "float64" ? null : '"float32" or "float64"')) as Check,
  /** PyTorch's device argument: nabla runs on the CPU. */
  device: ((v) => (v === null || v === "cpu" ? null : '"cpu" (nabla runs on the CPU)')) as Check,
  tensor: ((v) => (v instanceof Tensor ? null : "a Tensor")) as Check,
  orNull:
    (c: Check): Check =>
    (v) =>
      v === null ? null : c(v) && `${c(v)} or null`,
  either:
    (a: Check, b: Check): Check =>
    (v) =>
      a(v) === null || b(v) === null ? null : `${a(v)}, or ${b(v)}`,
  any: (() => null) as Check,
};

/** The closest name to `key` among `names` (a snake_case spelling, a typo of one or two letters), for "did you mean". */
export function closest(key: string, names: readonly string[]): string | null {
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  if (camel !== key && names.includes(camel)) return camel;
  let best: string | null = null,
    bestD = 3;
  for (const n of names) {
    const d = editDistance(key.toLowerCase(), n.toLowerCase());
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Bind a constructor's or factory's arguments the way its PyTorch counterpart takes them: positionally in
 * PyTorch's order (`params`), or as one options object, or positionally then an options object with the
 * rest (`new Conv2d(1, 6, 5, { padding: 2 })`). A key the class does not take, a value of the wrong kind,
 * a setting given twice, too many arguments and a missing required one are TypeErrors naming the class and
 * the argument: nothing is ignored. Returns the given settings by name (absent ones are left out).
 */
export function bindArgs<T extends object>(cls: string, params: readonly Param[], args: readonly unknown[]): T {
  const names = params.map((p) => p.name);
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  const out: Record<string, unknown> = {};
  const kw = params.findIndex((p) => p.keywordOnly);
  const slots = kw < 0 ? params.length : kw;
  const optsAt = n > 0 && isOptions(args[n - 1]) && !(n - 1 < slots && params[n - 1].check(args[n - 1]) === null) ? n - 1 : -1;
  const positional = optsAt >= 0 ? optsAt : n;
  if (positional > slots) {
    throw new TypeError(
      params.length === 0
        ? `${cls}: takes no arguments, got ${describe(args[0])}`
        : slots === 0
          ? `${cls}: takes one options object (${names.join(", ")}), got ${describe(args[0])}${n > 1 ? ` and ${n - 1} more` : ""}`
          : `${cls}: takes at most ${slots} positional arguments (${names.slice(0, slots).join(", ")}), got ${positional}${optsAt >= 0 ? " and an options object" : ""}`,
    );
  }
  for (let i = 0; i < positional; i++) {
    const v = args[i];
    if (isOptions(v) && params[i].check(v) !== null) {
      throw new TypeError(`${cls}: an options object must come last; argument ${i + 1} is ${names[i]}, got an options object`);
    }
    if (v !== undefined) out[names[i]] = v;
  }
  if (optsAt >= 0) {
    const o = args[optsAt] as Record<string, unknown>;
    checkKeys(cls, o, names);
    for (const k of Object.keys(o)) {
      if (k in out) throw new TypeError(`${cls}: ${k} is given both positionally and in the options object`);
      if (o[k] !== undefined) out[k] = o[k];
    }
  }
  for (const p of params) {
    if (!(p.name in out)) {
      if (p.required) throw new TypeError(`${cls}: missing required argument ${p.name}`);
      continue;
    }
    const expected = p.check(out[p.name]);
    if (expected !== null) throw new TypeError(`${cls}: ${p.name} must be ${expected}, got ${describe(out[p.name])}`);
  }
  return out as T;
}
