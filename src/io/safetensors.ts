// safetensors reading and writing (the Hugging Face format): validated parsing, atomic writes.
// Layout: u64 little-endian header length N, N bytes of JSON header, then the raw tensor data.

import { MAX_FILE_BYTES, readRegularFile } from "./files.js";
import { bfloat16ToFloat32, halfToFloat32, plainBytes, type Bytes } from "./bytes.js";
import { requireNode } from "../platform.js";
import { Tensor } from "../tensor/tensor.js";
import { fmt, numel } from "../tensor/shape.js";
import type { TypedArray } from "../tensor/dtype.js";
import { surplus } from "../surplus.js";

/** Element sizes of the safetensors dtypes nabla reads. */
const ITEM_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

class SafetensorsError extends Error {
  constructor(file: string, msg: string) {
    super(`safetensors: ${file}: ${msg}`);
    this.name = "SafetensorsError";
  }
}

/** Decode one tensor's bytes into nabla storage (float32/float64/int32). */
function decode(file: string, name: string, dtype: string, bytes: Uint8Array, n: number): TypedArray {
  const buf = bytes.slice().buffer; // a fresh, aligned copy
  switch (dtype) {
    case "F32":
      return new Float32Array(buf);
    case "F64":
      return new Float64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "I64": {
      const src = new BigInt64Array(buf),
        out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n)
          throw new SafetensorsError(file, `tensor '${name}': int64 value ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case "F16":
      return halfToFloat32(new Uint16Array(buf));
    case "BF16":
      return bfloat16ToFloat32(new Uint16Array(buf));
    case "I16":
      return Int32Array.from(new Int16Array(buf));
    case "I8":
      return Int32Array.from(new Int8Array(buf));
    case "U8":
    case "BOOL":
      return Int32Array.from(new Uint8Array(buf));
  }
  throw new SafetensorsError(file, `tensor '${name}': unsupported dtype '${dtype}'`);
}

/** A value from a header, for a message: a flat array or a primitive in full (at most 80 characters), anything nested by its kind (a deeply nested value would overflow the stack in JSON.stringify). */
function brief(v: unknown): string {
  const flat = Array.isArray(v) ? v.every((e) => e === null || typeof e !== "object") : v === null || typeof v !== "object";
  if (!flat) return Array.isArray(v) ? `a nested array of ${v.length}` : "an object";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Remove the temporary files that earlier writers of `path` left when they were killed mid-write: named
 * `.<file>.<pid>.<time>.<random>.tmp` beside it, with a pid that no longer runs. Another live process's file
 * is left alone.
 */
function removeOrphans(path: string): void {
  const { readdirSync, unlinkSync } = requireNode("node:fs", `writing ${path}`);
  const { basename, dirname, join } = requireNode("node:path", `writing ${path}`);
  const dir = dirname(path) || ".",
    prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)\.\d+\.[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // that writer is alive
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EPERM") continue; // alive, another user's
    }
    try {
      unlinkSync(join(dir, name));
    } catch {
      /* gone already */
    }
  }
}

/**
 * The first key that appears twice in one object of a JSON text (JSON.parse keeps the last silently), or
 * null. Scans strings and nesting only; the text is already known to be valid JSON.
 */
function duplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") stack.push(new Set());
    else if (ch === "[") stack.push(null);
    else if (ch === "}" || ch === "]") stack.pop();
    else if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const keys = stack[stack.length - 1];
      let k = j + 1;
      while (text[k] === " " || text[k] === "\n" || text[k] === "\r" || text[k] === "\t") k++;
      if (keys && text[k] === ":") {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = j;
    }
  }
  return null;
}

/**
 * Parse safetensors bytes, validating everything: header length, JSON (no duplicate keys, no
 * `__proto__`), dtypes, shapes, offsets inside the data, sizes matching dtype × shape, and a data section
 * covered exactly — no overlap, no hole, no trailing byte (so a header length off by one cannot shift
 * every tensor silently). I64 loads as int32 (with
 * a range check); F16 / BF16 load as float32.
 */
export function parseSafetensors(input: Bytes, file = "<bytes>"): SafetensorsFile {
  if (arguments.length > 2) surplus(arguments, "parseSafetensors(input, file)");
  const bytes = plainBytes(input, "parseSafetensors");
  if (bytes.length < 8) throw new SafetensorsError(file, `file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER)
    throw new SafetensorsError(file, `header length ${n} exceeds the ${MAX_HEADER}-byte limit (corrupt length at byte 0)`);
  if (8 + n > bytes.length)
    throw new SafetensorsError(file, `header length ${n} at byte 0 runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
    const dup = duplicateKey(text);
    if (dup !== null) throw new SafetensorsError(file, `header has the key ${JSON.stringify(dup)} twice`);
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw new SafetensorsError(file, `header (bytes 8..${8 + n}) is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new SafetensorsError(file, "header is not a JSON object");
  const dataStart = 8 + n,
    dataLen = bytes.length - dataStart;
  // names come from the file: records without a prototype, so no name can reach Object.prototype
  const metadata: Record<string, string> = Object.create(null);
  const spans: [number, number, string][] = [];
  const tensors: Record<string, Tensor> = Object.create(null);
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__proto__") throw new SafetensorsError(file, "header has a tensor named '__proto__'");
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        throw new SafetensorsError(file, "__metadata__ must be an object of strings");
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") throw new SafetensorsError(file, `__metadata__ value of '${k}' is not a string`);
        if (k === "__proto__") throw new SafetensorsError(file, "__metadata__ has a key named '__proto__'");
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) throw new SafetensorsError(file, `tensor '${name}': entry is not an object`);
    const dtype = info.dtype;
    if (typeof dtype !== "string" || !(dtype in ITEM_SIZE))
      throw new SafetensorsError(file, `tensor '${name}': unsupported dtype ${brief(dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(file, `tensor '${name}': invalid shape ${brief(shape)}`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(file, `tensor '${name}': invalid data_offsets ${brief(offs)}`);
    }
    const [b, e] = offs as [number, number];
    if (b > e || e > dataLen) {
      throw new SafetensorsError(
        file,
        `tensor '${name}': data_offsets [${b}, ${e}] lie outside the ${dataLen}-byte data section (file offset ${dataStart})`,
      );
    }
    const count = numel(shape);
    if (e - b !== count * ITEM_SIZE[dtype]) {
      throw new SafetensorsError(
        file,
        `tensor '${name}': ${e - b} bytes at data_offsets [${b}, ${e}] do not match ${dtype} × shape ${fmt(shape)} = ${count * ITEM_SIZE[dtype]} bytes`,
      );
    }
    spans.push([b, e, name]);
    tensors[name] = new Tensor(decode(file, name, dtype, bytes.subarray(dataStart + b, dataStart + e), count), shape);
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let end = 0;
  for (let i = 0; i < spans.length; i++) {
    if (i > 0 && spans[i][0] < spans[i - 1][1]) {
      throw new SafetensorsError(
        file,
        `tensors '${spans[i - 1][2]}' [${spans[i - 1][0]}, ${spans[i - 1][1]}] and '${spans[i][2]}' [${spans[i][0]}, ${spans[i][1]}] overlap`,
      );
    }
    if (spans[i][0] > end) {
      throw new SafetensorsError(
        file,
        `the data section has a hole at file bytes ${dataStart + end}..${dataStart + spans[i][0]} (before tensor '${spans[i][2]}')`,
      );
    }
    end = Math.max(end, spans[i][1]);
  }
  if (end !== dataLen) {
    throw new SafetensorsError(
      file,
      `${dataLen - end} bytes after the last tensor (file bytes ${dataStart + end}..${bytes.length}): trailing data, or a header length that is off (byte 0)`,
    );
  }
  return { tensors, metadata };
}

/** Load tensors and metadata from a path or bytes. */
export function loadSafetensorsFile(pathOrBytes: string | Bytes): SafetensorsFile {
  if (arguments.length > 1) surplus(arguments, "loadSafetensorsFile(pathOrBytes)");
  if (typeof pathOrBytes !== "string") return parseSafetensors(pathOrBytes);
  const b = readRegularFile(pathOrBytes, MAX_FILE_BYTES, (detail) => new SafetensorsError(pathOrBytes, detail));
  return parseSafetensors(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), pathOrBytes);
}

/**
 * Load a safetensors file (or bytes) as `Record<string, Tensor>`.
 * @example const sd = nb.io.loadSafetensors("resnet18.safetensors"); model.loadStateDict(sd);
 */
export function loadSafetensors(pathOrBytes: string | Bytes): Record<string, Tensor> {
  if (arguments.length > 1) surplus(arguments, "loadSafetensors(pathOrBytes)");
  return loadSafetensorsFile(pathOrBytes).tensors;
}

const DTYPE_TAG = { float32: "F32", float64: "F64", int32: "I32" } as const;

/** Serialize tensors (and string metadata) to safetensors bytes; data is laid out in the given key order. */
export function serializeSafetensors(tensors: Record<string, Tensor> | Map<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  if (arguments.length > 2) surplus(arguments, "serializeSafetensors(tensors, metadata)");
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== "string") throw new TypeError(`saveSafetensors: metadata value of '${k}' must be a string`);
    header.__metadata__ = metadata;
  }
  let off = 0;
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new TypeError(`saveSafetensors: '${name}' is not a Tensor`);
    if (name === "__metadata__") throw new RangeError("saveSafetensors: '__metadata__' is reserved");
    header[name] = { dtype: DTYPE_TAG[t.dtype], shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const padded = Math.ceil(hb.length / 8) * 8;
  if (padded !== hb.length) {
    json += " ".repeat(padded - hb.length);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Write bytes to `path` atomically: a temporary file in the same folder, flushed to disk, then renamed
 * over the target. A crash mid-write leaves the previous file intact.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  if (arguments.length > 2) surplus(arguments, "writeFileAtomic(path, bytes)");
  const { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } = requireNode("node:fs", `writing ${path}`);
  const { basename, dirname, join } = requireNode("node:path", `writing ${path}`);
  removeOrphans(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // the rename itself reaches the disk only when the directory entry does
  try {
    const dir = openSync(dirname(path) || ".", "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    /* a directory that cannot be opened for reading (some platforms): the file itself is synced */
  }
}

/** Save tensors as a safetensors file, atomically. F32 / F64 / I32 by dtype. */
export function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  if (arguments.length > 3) surplus(arguments, "saveSafetensors(path, tensors, metadata)");
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
