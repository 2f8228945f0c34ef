// Mutations: byte-level (any file) and JSON-level (the structured parts of safetensors headers and
// checkpoint metadata). Each takes the case's generator, so a case is reproducible from its number.

import { Rng } from "./rng.js";

/** Values that break parsers: wrong types, boundaries, huge and fractional numbers, prototype names. */
const ODD_NUMBERS = [
  0,
  -1,
  1,
  2,
  1.5,
  -0.5,
  255,
  256,
  65535,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 32 - 1,
  2 ** 53,
  2 ** 53 + 2,
  1e308,
  -1e308,
  1e-320,
];
const ODD_STRINGS = [
  "",
  "x",
  "NaN",
  "Infinity",
  "-1",
  "1e999",
  "__proto__",
  "constructor",
  "toString",
  "F32",
  "F64",
  "I64",
  "U16",
  "\u0000",
  "é",
];
const DEEP = "\u0000DEEP\u0000";

function oddValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 1 ? 5 : 8)) {
    case 0:
      return rng.pick(ODD_NUMBERS);
    case 1:
      return rng.pick(ODD_STRINGS);
    case 2:
      return rng.pick([null, true, false]);
    case 3:
      return rng.int(2 ** 31) * (rng.chance(0.5) ? 1 : -1);
    case 4:
      return rng.u32() / 2 ** 16 - 2 ** 15;
    case 5:
      return Array.from({ length: rng.int(4) }, () => oddValue(rng, depth + 1));
    case 6:
      return Object.fromEntries(Array.from({ length: rng.int(3) }, () => [rng.pick(ODD_STRINGS), oddValue(rng, depth + 1)]));
    default:
      return DEEP; // replaced by a 10,000-deep array once serialized
  }
}

type Path = (string | number)[];

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((e, i) => paths(e, [...at, i], out));
  else if (v && typeof v === "object") for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

function getAt(root: unknown, p: Path): unknown {
  return p.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

/** One change at a random place of a parsed JSON value (which is modified and also returned). */
export function mutateJson(root: unknown, rng: Rng): unknown {
  const all = paths(root);
  const p = rng.pick(all);
  const v = getAt(root, p);
  const parent = p.length ? (getAt(root, p.slice(0, -1)) as Record<string | number, unknown>) : null;
  const key = p[p.length - 1];
  const set = (nv: unknown) => {
    if (parent) parent[key] = nv;
    else root = nv;
  };
  switch (rng.int(6)) {
    case 0:
      set(oddValue(rng));
      break;
    case 1: // a number nudged
      if (typeof v === "number") set(rng.pick([v + 1, v - 1, -v, v * 2 ** 20, v + 0.5, v / 3]));
      else set(oddValue(rng));
      break;
    case 2: // removed
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent) delete parent[key];
      break;
    case 3: // a key added to an object, or an element to an array
      if (Array.isArray(v)) v.splice(rng.int(v.length + 1), 0, v.length ? structuredClone(rng.pick(v)) : oddValue(rng));
      else if (v && typeof v === "object") {
        const keys = Object.keys(v);
        const k = rng.chance(0.5) && keys.length ? `${rng.pick(keys)}${rng.pick(["", "x", "0"])}` : rng.pick(ODD_STRINGS);
        Object.defineProperty(v, k, { value: oddValue(rng), enumerable: true, writable: true, configurable: true });
      } else set(oddValue(rng));
      break;
    case 4: // another node's value copied here (right type, wrong place)
      set(structuredClone(getAt(root, rng.pick(all))));
      break;
    default: // a string changed
      if (typeof v === "string") set(rng.pick([v + rng.pick(ODD_STRINGS), v.slice(0, rng.int(v.length + 1)), v.toUpperCase(), ""]));
      else set(oddValue(rng));
  }
  return root;
}

/** JSON text of a mutated value; the DEEP marker becomes a 10,000-deep nested array. */
export function stringify(v: unknown): string {
  const text = JSON.stringify(v) ?? "null";
  const deep = "[".repeat(10000) + "]".repeat(10000);
  return text.split(JSON.stringify(DEEP)).join(deep);
}

/** Byte-level mutations anywhere in a file (from `lo`): flips, overwrites, truncation, insertion, deletion. */
export function mutateBytes(b: Uint8Array, rng: Rng, lo = 0): Uint8Array {
  const n = b.length;
  const pos = () => lo + rng.int(Math.max(1, n - lo));
  switch (rng.int(8)) {
    case 0: {
      const out = b.slice();
      const i = pos();
      if (i < n) out[i] ^= 1 << rng.int(8);
      return out;
    }
    case 1: {
      const out = b.slice();
      for (let k = rng.int(4) + 1; k > 0; k--) {
        const i = pos();
        if (i < n) out[i] = rng.pick([0, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x5c, 0x7b, rng.int(256)]);
      }
      return out;
    }
    case 2:
      return b.slice(0, pos());
    case 3:
      return concat(b, rng.bytes(rng.int(16) + 1));
    case 4: {
      const i = pos();
      return concat(b.subarray(0, i), rng.bytes(rng.int(8) + 1), b.subarray(i));
    }
    case 5: {
      const i = pos();
      return concat(b.subarray(0, i), b.subarray(Math.min(n, i + rng.int(16) + 1)));
    }
    case 6: {
      const i = pos(),
        j = Math.min(n, i + rng.int(64) + 1);
      return concat(b.subarray(0, j), b.subarray(i, j), b.subarray(j));
    }
    default: {
      // a 32-bit integer overwritten, little- or big-endian
      const out = b.slice();
      const i = pos();
      if (i + 4 <= n)
        new DataView(out.buffer).setUint32(
          i,
          rng.pick([0, 1, 0xffffffff, 0x80000000, 0x7fffffff, rng.u32(), n, n + 1, n - 1]),
          rng.chance(0.5),
        );
      return out;
    }
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
