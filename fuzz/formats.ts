// The fuzzer's own view of each format, written from the format descriptions: builders for the seed files,
// and oracles that say whether a file is valid (for what nabla reads) and what it holds. A parser's answer
// is compared with the oracle's: a file the oracle rejects must be rejected, one it accepts must load with
// exactly the oracle's values.

import { gunzipSync } from "node:zlib";
import { concat } from "./mutate.js";

export type Verdict<T> = { valid: true; value: T } | { valid: false; why: string };
const no = (why: string): { valid: false; why: string } => ({ valid: false, why });

// ---- safetensors: u64 LE header length N, N bytes of UTF-8 JSON, then the data section ----

export interface StEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
export interface StFile {
  header: Record<string, unknown>;
  data: Uint8Array;
}
/** Element sizes of the dtypes nabla loads (others are valid safetensors that nabla refuses by name). */
export const ST_SIZES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** A file from a header object (or its text) and a data section; `pad` spaces after the JSON, as the format allows. */
export function buildSafetensors(header: Record<string, unknown> | string, data: Uint8Array, pad = 0): Uint8Array {
  const text = (typeof header === "string" ? header : JSON.stringify(header)) + " ".repeat(pad);
  const h = new TextEncoder().encode(text);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  return concat(len, h, data);
}

/** Keys of one JSON object level that appear twice (JSON.parse keeps the last), found by a small tokenizer. */
function hasDuplicateKeys(text: string): boolean {
  const seen: (string[] | null)[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      for (; text[j] !== '"'; j++) if (text[j] === "\\") j++;
      const raw = text.slice(i, j + 1);
      let k = j + 1;
      while (/\s/.test(text[k] ?? "")) k++;
      const top = seen[seen.length - 1];
      if (text[k] === ":" && top) {
        const key = JSON.parse(raw) as string;
        if (top.includes(key)) return true;
        top.push(key);
      }
      i = j + 1;
      continue;
    }
    if (c === "{") seen.push([]);
    else if (c === "[") seen.push(null);
    else if (c === "}" || c === "]") seen.pop();
    i++;
  }
  return false;
}

function numelOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export interface StTensor {
  dtype: string;
  shape: number[];
  values: number[];
}
export interface StValue {
  tensors: Map<string, StTensor>;
  metadata: Map<string, string>;
}

function decodeValues(dtype: string, b: Uint8Array): number[] | string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = ST_SIZES[dtype];
  const out: number[] = [];
  for (let o = 0; o < b.length; o += size) {
    switch (dtype) {
      case "F64":
        out.push(dv.getFloat64(o, true));
        break;
      case "F32":
        out.push(dv.getFloat32(o, true));
        break;
      case "F16": {
        const h = dv.getUint16(o, true);
        const sign = h >> 15 ? -1 : 1,
          e = (h >> 10) & 31,
          m = h & 1023;
        out.push(e === 31 ? (m ? NaN : sign * Infinity) : e === 0 ? sign * m * Math.pow(2, -24) : sign * (1024 + m) * Math.pow(2, e - 25));
        break;
      }
      case "BF16": {
        const tmp = new DataView(new ArrayBuffer(4));
        tmp.setUint16(0, dv.getUint16(o, true), false);
        out.push(tmp.getFloat32(0, false));
        break;
      }
      case "I64": {
        const v = dv.getBigInt64(o, true);
        if (v < -(2n ** 31n) || v >= 2n ** 31n) return `I64 value ${v} outside int32`;
        out.push(Number(v));
        break;
      }
      case "I32":
        out.push(dv.getInt32(o, true));
        break;
      case "I16":
        out.push(dv.getInt16(o, true));
        break;
      case "I8":
        out.push(dv.getInt8(o));
        break;
      default:
        out.push(dv.getUint8(o));
    }
  }
  return out;
}

/** Whether nabla must accept these bytes as safetensors, and what they hold. */
export function safetensorsOracle(bytes: Uint8Array): Verdict<StValue> {
  if (bytes.length < 8) return no("shorter than the length field");
  const n = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true);
  if (n > 100n * 1024n * 1024n) return no("header over 100 MB");
  if (8n + n > BigInt(bytes.length)) return no("header runs past the end");
  const start = 8 + Number(n);
  let text: string, header: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, start));
    header = JSON.parse(text);
  } catch {
    return no("header is not UTF-8 JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) return no("header not an object");
  if (hasDuplicateKeys(text)) return no("duplicate key");
  const dataLen = bytes.length - start;
  const tensors = new Map<string, StTensor>(),
    metadata = new Map<string, string>();
  const spans: [number, number][] = [];
  for (const name of Object.keys(header)) {
    const e = (header as Record<string, unknown>)[name];
    if (name === "__proto__") return no("tensor named __proto__");
    if (name === "__metadata__") {
      if (typeof e !== "object" || e === null || Array.isArray(e)) return no("metadata not an object");
      for (const k of Object.keys(e)) {
        const v = (e as Record<string, unknown>)[k];
        if (k === "__proto__" || typeof v !== "string") return no("bad metadata entry");
        metadata.set(k, v);
      }
      continue;
    }
    if (typeof e !== "object" || e === null) return no("entry not an object");
    const { dtype, shape, data_offsets: offs } = e as Record<string, unknown>;
    if (typeof dtype !== "string" || !Object.prototype.hasOwnProperty.call(ST_SIZES, dtype)) return no("dtype");
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) return no("shape");
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((d) => !Number.isSafeInteger(d) || d < 0)) return no("offsets");
    const [b, end] = offs as number[];
    if (b > end || end > dataLen) return no("offsets outside the data");
    if (end - b !== numelOf(shape) * ST_SIZES[dtype]) return no("size does not match shape");
    const values = decodeValues(dtype, bytes.subarray(start + b, start + end));
    if (typeof values === "string") return no(values);
    tensors.set(name, { dtype, shape: shape.slice(), values });
    spans.push([b, end]);
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let covered = 0;
  for (const [b, end] of spans) {
    // as the reference implementation: sorted by offsets, each tensor starts where the previous ended
    if (b !== covered) return no(b < covered ? "overlap" : "hole");
    covered = end;
  }
  if (covered !== dataLen) return no("bytes after the last tensor");
  return { valid: true, value: { tensors, metadata } };
}

/** The parts of a valid file (the oracle's view) as a header object and a data section, to rebuild after a change. */
export function splitSafetensors(bytes: Uint8Array): StFile {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.slice(8 + n) };
}

// ---- IDX (MNIST): 0x00 0x00, type 0x08 (unsigned byte), ndim, ndim big-endian u32 sizes, the bytes ----

export function buildIdx(shape: number[], data: Uint8Array): Uint8Array {
  const h = new Uint8Array(4 + 4 * shape.length);
  h[2] = 8;
  h[3] = shape.length;
  shape.forEach((d, i) => new DataView(h.buffer).setUint32(4 + 4 * i, d, false));
  return concat(h, data);
}

/** gzip members are inflated by zlib (the oracle caps what it inflates; a larger file is not one nabla needs here). */
function inflate(b: Uint8Array): Uint8Array | null {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      return new Uint8Array(gunzipSync(b, { maxOutputLength: 1 << 26 }));
    } catch {
      return null;
    }
  }
  return b;
}

export function idxOracle(bytes: Uint8Array, dims: number): Verdict<{ shape: number[]; data: Uint8Array }> {
  const b = inflate(bytes);
  if (!b) return no("corrupt gzip");
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0 || b[2] !== 8 || b[3] !== dims) return no("magic");
  if (b.length < 4 + 4 * dims) return no("short header");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shape = Array.from({ length: dims }, (_, i) => dv.getUint32(4 + 4 * i, false));
  if (b.length !== 4 + 4 * dims + numelOf(shape)) return no("size does not match the dimensions");
  return { valid: true, value: { shape, data: b.subarray(4 + 4 * dims) } };
}

// ---- CIFAR-10 binary: records of 1 label byte (< 10) and 3,072 pixel bytes ----

export const CIFAR_RECORD = 3073;

export function cifarOracle(bytes: Uint8Array): Verdict<{ labels: number[]; images: Uint8Array }> {
  const b = inflate(bytes);
  if (!b) return no("corrupt gzip");
  if (b.length === 0 || b.length % CIFAR_RECORD !== 0 || b.length > 60000 * CIFAR_RECORD) return no("not whole records");
  const labels: number[] = [],
    images = new Uint8Array((b.length / CIFAR_RECORD) * 3072);
  for (let r = 0; r * CIFAR_RECORD < b.length; r++) {
    if (b[r * CIFAR_RECORD] > 9) return no("label");
    labels.push(b[r * CIFAR_RECORD]);
    images.set(b.subarray(r * CIFAR_RECORD + 1, (r + 1) * CIFAR_RECORD), r * 3072);
  }
  return { valid: true, value: { labels, images } };
}
