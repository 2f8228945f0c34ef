// Reading what `torch.save` writes (`.pth` / `.pt`), without executing anything.
//
// Two layouts: the zip archive of PyTorch ≥ 1.6 (`<name>/data.pkl`, one stored entry per storage under
// `<name>/data/<key>`, optionally `<name>/byteorder`), and the legacy stream of pickles written with
// `_use_new_zipfile_serialization=False` (magic number, protocol version, system info, the object, the
// storage keys, then each storage's element count and bytes; the zip itself is read by io/zip.ts). The
// object is a pickle, read by io/pickle.ts's stack machine against this file's fixed list of globals — tensors,
// storages, OrderedDict — in the spirit of `torch.load(weights_only=True)`. Any other global is an error
// naming it, raised where the global is named, before anything could refer to it. No global is ever
// resolved to code: the allowed ones are rebuilt here by hand.

import { Tensor } from "../tensor/tensor.js";
import { checkElements, type TypedArray } from "../tensor/dtype.js";
import { MAX_FILE_BYTES, readRegularFile } from "./files.js";
import { bfloat16ToFloat32, halfToFloat32, latin1, plainBytes, type Bytes } from "./bytes.js";
import { Dict, Global, Tuple, describe, unpickle, type PickleContext } from "./pickle.js";
import { entryBytes, readZip } from "./zip.js";
import { surplus } from "../surplus.js";

export class TorchLoadError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = "TorchLoadError";
  }
}

/** What a loaded file may contain: tensors and plain data, in dicts (string keys → objects, other keys → Map) and lists. */
export type TorchValue =
  Tensor | number | bigint | string | boolean | null | Uint8Array | TorchValue[] | TorchDict | Map<TorchValue, TorchValue>;
export interface TorchDict {
  [key: string]: TorchValue;
}

// ---------------------------------------------------------------------------------------------------
// Storages: torch's legacy storage class names and their element types.

type StorageDType = "float32" | "float64" | "float16" | "bfloat16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";
const STORAGE_TYPES: Record<string, StorageDType> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
  UntypedStorage: "uint8",
};
const ITEM_SIZE: Record<StorageDType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** A storage named by a persistent id; its bytes are found once the whole pickle has been read. */
class Storage {
  readonly what = "a storage";
  bytes: Uint8Array | null = null;
  decoded: ArrayLike<number | bigint> | null = null;
  constructor(
    readonly key: string,
    readonly dtype: StorageDType,
    readonly numel: number,
  ) {}
}

/** A tensor waiting for its storage's bytes. */
class PendingTensor {
  readonly what = "a tensor";
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    readonly at: number,
  ) {}
}

/** Globals a state dict may name, and why each is harmless: every one is rebuilt here, never called. */
const ALLOWED = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "torch.Size",
  "_codecs.encode",
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
  "torch.storage.UntypedStorage",
]);

/** The context of one pickle: its errors name the file and the entry; it collects the tensors it makes. */
interface TorchContext extends PickleContext {
  file: string;
  tensors: PendingTensor[];
}

function torchContext(
  file: string,
  entry: string,
  persistent: (pid: unknown, at: number) => Storage,
  fail?: (at: number, msg: string) => Error,
): TorchContext {
  const ctx: TorchContext = {
    file,
    tensors: [],
    fail: fail ?? ((at, msg) => new TorchLoadError(`loadTorch: ${file}: ${entry ? entry + ", " : ""}byte ${at}: ${msg}`)),
    refuse: (name) =>
      ALLOWED.has(name)
        ? null
        : `global '${name}' is not allowed: loadTorch reads only tensors, storages and dicts / lists of them (as torch.load(weights_only=True)), and never runs code from a file` +
          (/^torch\.nn\.|^torchvision\.|^__main__\./.test(name)
            ? " — this file holds a whole pickled model; save model.state_dict() instead"
            : ""),
    persistent,
    call: (name, args, at) => rebuild(name, args, at, ctx),
  };
  return ctx;
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function intTuple(v: unknown): number[] | null {
  const items = v instanceof Tuple ? v.items : null;
  if (!items || !items.every((x) => isInt(x) && x >= 0)) return null;
  return items as number[];
}

/** The allowed globals, rebuilt by hand. */
function rebuild(name: string, args: unknown[], at: number, ctx: TorchContext): unknown {
  const fail = ctx.fail;
  switch (name) {
    case "collections.OrderedDict": {
      if (args.length !== 0) throw fail(at, `OrderedDict(...) with ${args.length} arguments (torch.save writes none)`);
      const d = new Dict();
      d.ordered = true;
      return d;
    }
    case "torch._utils._rebuild_tensor":
    case "torch._utils._rebuild_tensor_v2": {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof Storage)) throw fail(at, `${name}: the storage argument is ${describe(storage)}`);
      const sz = intTuple(size),
        st = intTuple(stride);
      if (!isInt(offset) || offset < 0) throw fail(at, `${name}: storage offset ${describe(offset)} is not an integer ≥ 0`);
      if (!sz) throw fail(at, `${name}: size ${describe(size)} is not a tuple of integers ≥ 0`);
      if (!st || st.length !== sz.length) throw fail(at, `${name}: stride ${describe(stride)} is not ${sz.length} integers ≥ 0`);
      const n = sz.reduce((a, b) => a * b, 1);
      checkElements(n, () => `loadTorch: ${ctx.file}: a tensor of shape [${sz.join(", ")}]`);
      if (n > 0) {
        let last = offset;
        for (let i = 0; i < sz.length; i++) last += (sz[i] - 1) * st[i];
        if (last >= storage.numel)
          throw fail(
            at,
            `a tensor of shape [${sz.join(", ")}], stride [${st.join(", ")}] at offset ${offset} reaches element ${last} of storage '${storage.key}', which holds ${storage.numel}`,
          );
      }
      const t = new PendingTensor(storage, offset, sz, st, at);
      ctx.tensors.push(t);
      return t;
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      const data = args[0];
      if (!(data instanceof PendingTensor)) throw fail(at, `${name}: the data argument is ${describe(data)}, not a tensor`);
      return data;
    }
    case "torch.Size": {
      const sz = intTuple(args[0]);
      if (args.length !== 1 || !sz) throw fail(at, "torch.Size(...) of something other than a tuple of integers");
      return new Tuple(sz);
    }
    case "_codecs.encode": {
      const [s, enc] = args;
      if (typeof s !== "string" || (enc !== "latin1" && enc !== "latin-1")) throw fail(at, "_codecs.encode other than (str, 'latin1')");
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 255) throw fail(at, "_codecs.encode: a character beyond latin-1");
        out[i] = c;
      }
      return out;
    }
  }
  throw fail(at, `global '${name}' cannot be called`);
}

/** Resolve a `('storage', type, key, location, numel[, view_metadata])` persistent id. */
function storageResolver(
  storages: Map<string, Storage>,
  legacy: boolean,
  fail: (at: number, msg: string) => Error,
): (pid: unknown, at: number) => Storage {
  return (pid, at) => {
    const items = pid instanceof Tuple ? pid.items : null;
    if (!items || items[0] !== "storage")
      throw fail(
        at,
        `a persistent id that is ${items ? `a '${String(items[0])}' record` : describe(pid)}, not a storage${items && items[0] === "module" ? " (a whole pickled model; save model.state_dict() instead)" : ""}`,
      );
    const [, type, key, , numel, view] = items;
    if (items.length !== (legacy ? 6 : 5)) throw fail(at, `a storage record of ${items.length} fields (${legacy ? 6 : 5} expected)`);
    if (!(type instanceof Global)) throw fail(at, `a storage whose type is ${describe(type)}`);
    const dtype = STORAGE_TYPES[type.name.slice(type.name.lastIndexOf(".") + 1)];
    if (!dtype) throw fail(at, `storage type '${type.name}' is not read`);
    if (typeof key !== "string") throw fail(at, `a storage key that is ${describe(key)}`);
    if (!isInt(numel) || numel < 0) throw fail(at, `storage '${key}' has ${describe(numel)} elements`);
    let s = storages.get(key);
    if (s) {
      if (s.dtype !== dtype || s.numel !== numel) throw fail(at, `storage '${key}' is named twice with different types or sizes`);
    } else {
      s = new Storage(key, dtype, numel);
      storages.set(key, s);
    }
    if (view !== null && view !== undefined) {
      // legacy views of a storage: (view_key, offset, size) in elements
      const v = view instanceof Tuple ? view.items : null;
      if (!v || v.length !== 3 || typeof v[0] !== "string" || !isInt(v[1]) || !isInt(v[2]) || v[1] < 0 || v[2] < 0 || v[1] + v[2] > numel)
        throw fail(at, `storage '${key}': a view record outside the storage`);
      const sub = new Storage(`${key}[${v[1]}:${v[1] + v[2]}]`, dtype, v[2]);
      viewsOf.set(sub, { base: s, offset: v[1] });
      storages.set(v[0], sub);
      return sub;
    }
    return s;
  };
}
const viewsOf = new WeakMap<Storage, { base: Storage; offset: number }>();

// ---------------------------------------------------------------------------------------------------
// From storages and pending tensors to nabla tensors.

function decodeStorage(s: Storage, littleEndian: boolean): ArrayLike<number | bigint> {
  if (s.decoded) return s.decoded;
  const view = viewsOf.get(s);
  if (view) {
    const base = decodeStorage(view.base, littleEndian);
    s.decoded = (base as unknown as { subarray(a: number, b: number): ArrayLike<number | bigint> }).subarray(
      view.offset,
      view.offset + s.numel,
    );
    return s.decoded;
  }
  const size = ITEM_SIZE[s.dtype];
  const raw = s.bytes!.slice(0, s.numel * size); // a fresh, aligned copy
  if (!littleEndian && size > 1) {
    for (let i = 0; i < raw.length; i += size) raw.subarray(i, i + size).reverse();
  }
  const buf = raw.buffer;
  switch (s.dtype) {
    case "float32":
      return (s.decoded = new Float32Array(buf));
    case "float64":
      return (s.decoded = new Float64Array(buf));
    case "int64":
      return (s.decoded = new BigInt64Array(buf));
    case "int32":
      return (s.decoded = new Int32Array(buf));
    case "int16":
      return (s.decoded = new Int16Array(buf));
    case "int8":
      return (s.decoded = new Int8Array(buf));
    case "uint8":
    case "bool":
      return (s.decoded = new Uint8Array(buf));
    case "float16":
      return (s.decoded = halfToFloat32(new Uint16Array(buf)));
    case "bfloat16":
      return (s.decoded = bfloat16ToFloat32(new Uint16Array(buf)));
  }
}

/** A nabla tensor from a pending one: float32 / float64 kept, float16 / bfloat16 → float32, integers and bool → int32 (int64 values checked). */
function materialize(t: PendingTensor, littleEndian: boolean, fail: (at: number, msg: string) => Error): Tensor {
  const src = decodeStorage(t.storage, littleEndian);
  const n = t.size.reduce((a, b) => a * b, 1);
  const dtype = t.storage.dtype;
  const out: TypedArray =
    dtype === "float64"
      ? new Float64Array(n)
      : dtype === "float32" || dtype === "float16" || dtype === "bfloat16"
        ? new Float32Array(n)
        : new Int32Array(n);
  const nd = t.size.length;
  // contiguous (row-major) tensors copy one run; the rest walk their strides
  let contiguous = true;
  for (let d = nd - 1, expect = 1; d >= 0; d--) {
    if (t.size[d] !== 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.size[d];
  }
  const read = (i: number): number => {
    const v = src[i];
    if (typeof v === "bigint") {
      if (v > 2147483647n || v < -2147483648n)
        throw fail(t.at, `an int64 value ${v} (element ${i} of storage '${t.storage.key}') does not fit in int32`);
      return Number(v);
    }
    return v;
  };
  if (contiguous && !(src instanceof BigInt64Array)) {
    out.set((src as Float32Array).subarray(t.offset, t.offset + n) as unknown as ArrayLike<number>);
  } else if (contiguous) {
    for (let i = 0; i < n; i++) out[i] = read(t.offset + i);
  } else {
    const idx = new Array<number>(nd).fill(0);
    let off = t.offset;
    for (let i = 0; i < n; i++) {
      out[i] = read(off);
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d] < t.size[d]) {
          off += t.stride[d];
          break;
        }
        off -= (t.size[d] - 1) * t.stride[d];
        idx[d] = 0;
      }
    }
  }
  return new Tensor(out, t.size);
}

/** Replace the machine's values by the public ones: tuples and lists → arrays, dicts → objects or Maps, tensors → Tensor. */
function finish(v: unknown, tensors: Map<PendingTensor, Tensor>, seen: Map<unknown, TorchValue>, depth = 0): TorchValue {
  if (depth > 1000) throw new TorchLoadError("loadTorch: lists or dicts nested more than 1000 deep");
  if (v instanceof PendingTensor) return tensors.get(v)!;
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v as TorchValue;
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (v instanceof Tuple || Array.isArray(v)) {
    const items = v instanceof Tuple ? v.items : (v as unknown[]);
    const out: TorchValue[] = [];
    seen.set(v, out);
    for (const x of items) out.push(finish(x, tensors, seen, depth + 1));
    return out;
  }
  if (v instanceof Dict) {
    if ([...v.entries.keys()].every((k) => typeof k === "string")) {
      const out: TorchDict = Object.create(null);
      seen.set(v, out);
      for (const [k, x] of v.entries) out[k as string] = finish(x, tensors, seen, depth + 1);
      return out;
    }
    const out = new Map<TorchValue, TorchValue>();
    seen.set(v, out);
    for (const [k, x] of v.entries) out.set(k as TorchValue, finish(x, tensors, seen, depth + 1));
    return out;
  }
  if (v instanceof Storage) throw new TorchLoadError(`loadTorch: a bare storage ('${v.key}') outside a tensor is not read`);
  if (v instanceof Global) throw new TorchLoadError(`loadTorch: the file's object is the global '${v.name}' itself, not data`);
  throw new TorchLoadError(`loadTorch: an unexpected value (${describe(v)})`);
}

// ---------------------------------------------------------------------------------------------------
// The two layouts.

function loadZip(bytes: Uint8Array, file: string): TorchValue {
  const zipFail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${file}: byte ${at}: ${msg}`);
  const entries = readZip(bytes, zipFail);
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1)
    throw new TorchLoadError(
      `loadTorch: ${file}: ${pkls.length ? "more than one" : "no"} '<name>/data.pkl' entry: not an archive written by torch.save`,
    );
  const prefix = pkls[0].slice(0, -"data.pkl".length);
  let littleEndian = true;
  const bo = entries.get(prefix + "byteorder");
  if (bo) {
    const s = latin1(entryBytes(bytes, bo, zipFail));
    if (s !== "little" && s !== "big")
      throw new TorchLoadError(`loadTorch: ${file}: entry '${bo.name}' says '${s.slice(0, 20)}', not 'little' or 'big'`);
    littleEndian = s === "little";
  }
  const entry = pkls[0];
  const pkl = entryBytes(bytes, entries.get(entry)!, zipFail);
  const storages = new Map<string, Storage>();
  const fail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${file}: ${entry}, byte ${at}: ${msg}`);
  const ctx = torchContext(file, entry, storageResolver(storages, false, fail), fail);
  const { value, end } = unpickle(pkl, 0, ctx);
  if (end !== pkl.length) throw fail(end, `${pkl.length - end} bytes after the pickle's end`);
  for (const s of storages.values()) {
    if (viewsOf.has(s)) continue;
    const e = entries.get(`${prefix}data/${s.key}`);
    if (!e) throw new TorchLoadError(`loadTorch: ${file}: storage '${s.key}' has no entry '${prefix}data/${s.key}'`);
    const need = s.numel * ITEM_SIZE[s.dtype];
    if (e.size < need)
      throw new TorchLoadError(
        `loadTorch: ${file}: entry '${e.name}' holds ${e.size} bytes; storage '${s.key}' needs ${need} (${s.numel} × ${s.dtype})`,
      );
    s.bytes = entryBytes(bytes, e, zipFail);
  }
  return finishAll(value, ctx.tensors, littleEndian, fail);
}

function finishAll(value: unknown, pending: PendingTensor[], littleEndian: boolean, fail: (at: number, msg: string) => Error): TorchValue {
  const tensors = new Map<PendingTensor, Tensor>();
  for (const t of pending) tensors.set(t, materialize(t, littleEndian, fail));
  return finish(value, tensors, new Map());
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function loadLegacy(bytes: Uint8Array, file: string): TorchValue {
  const noStorage = () => {
    throw new TorchLoadError(`loadTorch: ${file}: a storage inside the file's header`);
  };
  const header = (start: number, what: string) => {
    return unpickle(bytes, start, torchContext(file, what, noStorage));
  };
  const magic = header(0, "magic number");
  if (typeof magic.value !== "bigint" || magic.value !== LEGACY_MAGIC)
    throw new TorchLoadError(`loadTorch: ${file}: byte 0: not a file written by torch.save (no zip archive, no legacy magic number)`);
  const proto = header(magic.end, "protocol version");
  if (proto.value !== 1001)
    throw new TorchLoadError(`loadTorch: ${file}: byte ${magic.end}: legacy protocol version ${String(proto.value)} (1001 is read)`);
  const info = header(proto.end, "system info");
  let littleEndian = true;
  if (info.value instanceof Dict) {
    const le = info.value.entries.get("little_endian");
    if (le === false) littleEndian = false;
  }
  const storages = new Map<string, Storage>();
  const fail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${file}: byte ${at}: ${msg}`);
  const ctx = torchContext(file, "", storageResolver(storages, true, fail), fail);
  const main = unpickle(bytes, info.end, ctx);
  const keysPickle = header(main.end, "storage keys");
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string"))
    throw fail(main.end, "the storage key list is not a list of strings");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keysPickle.end;
  for (const key of keys as string[]) {
    const s = storages.get(key);
    if (!s || viewsOf.has(s)) throw fail(p, `storage '${key}' is listed but the object never names it`);
    if (p + 8 > bytes.length) throw fail(p, `storage '${key}': the file ends before its size: the file is truncated`);
    const n = dv.getBigInt64(p, littleEndian);
    if (n !== BigInt(s.numel)) throw fail(p, `storage '${key}' records ${n} elements; the object says ${s.numel}`);
    p += 8;
    const nbytes = s.numel * ITEM_SIZE[s.dtype];
    if (p + nbytes > bytes.length)
      throw fail(p, `storage '${key}': ${nbytes} bytes of data, but the file ends after ${bytes.length - p}: the file is truncated`);
    s.bytes = bytes.subarray(p, p + nbytes);
    p += nbytes;
  }
  for (const s of storages.values())
    if (!s.bytes && !viewsOf.has(s)) throw fail(p, `storage '${s.key}' is named by the object but not stored in the file`);
  if (p !== bytes.length) throw fail(p, `${bytes.length - p} bytes after the last storage`);
  return finishAll(main.value, ctx.tensors, littleEndian, fail);
}

/**
 * Parse the bytes of a file written by `torch.save` — a state dict, a checkpoint dict, or any nesting of
 * dicts, lists and tuples of tensors and numbers — without executing anything: only tensors, storages
 * and (ordered) dicts are rebuilt, and any other global (a pickled class, `os.system`, …) is a
 * `TorchLoadError` naming it. Tensors come back as float32 / float64 (float16 and bfloat16 widen to
 * float32) or int32 (int64 values must fit); views sharing a storage become separate tensors.
 */
export function parseTorch<T = Record<string, Tensor>>(bytes: Bytes, file = "<bytes>"): T {
  if (arguments.length > 2) surplus(arguments, "parseTorch(bytes, file)");
  const b = plainBytes(bytes, "loadTorch");
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return loadZip(b, file) as T;
  if (b.length >= 2 && b[0] === 0x80) return loadLegacy(b, file) as T;
  if (b.length > 262 && latin1(b.subarray(257, 262)) === "ustar")
    throw new TorchLoadError(`loadTorch: ${file}: a tar archive (PyTorch before 0.4); load and re-save it with a recent PyTorch`);
  throw new TorchLoadError(`loadTorch: ${file}: byte 0: neither a zip archive nor a pickle: not a file written by torch.save`);
}

/**
 * Load a file written by `torch.save` (`.pth` / `.pt`, zip or legacy format) from a path or its bytes;
 * see {@link parseTorch}. Nothing in the file is executed.
 * @example const sd = nb.io.loadTorch("resnet18.pth"); model.loadStateDict(sd);
 */
export function loadTorch<T = Record<string, Tensor>>(pathOrBytes: string | Bytes): T {
  if (arguments.length > 1) surplus(arguments, "loadTorch(pathOrBytes)");
  if (typeof pathOrBytes !== "string") {
    if (!(pathOrBytes instanceof Uint8Array || pathOrBytes instanceof ArrayBuffer))
      throw new TypeError(
        `loadTorch: expected a path, a Uint8Array or an ArrayBuffer, got ${pathOrBytes === null ? "null" : typeof pathOrBytes}`,
      );
    return parseTorch<T>(pathOrBytes);
  }
  const b = readRegularFile(pathOrBytes, MAX_FILE_BYTES, (detail) => new TorchLoadError(`loadTorch: ${pathOrBytes}: ${detail}`));
  return parseTorch<T>(b, pathOrBytes);
}
