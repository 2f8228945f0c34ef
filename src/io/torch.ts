// Reading what `torch.save` writes (`.pth` / `.pt`), without executing anything.
//
// Two layouts: the zip archive of PyTorch ≥ 1.6 (`<name>/data.pkl`, one stored entry per storage under
// `<name>/data/<key>`, optionally `<name>/byteorder`), and the legacy stream of pickles written with
// `_use_new_zipfile_serialization=False` (magic number, protocol version, system info, the object, the
// storage keys, then each storage's element count and bytes). The object is a pickle; it is read by a
// small stack machine that knows only the opcodes of protocols 0–5 and a fixed list of globals — tensors,
// storages, OrderedDict — in the spirit of `torch.load(weights_only=True)`. Any other global is an error
// naming it, raised where the global is named, before anything could refer to it. No global is ever
// resolved to code: the allowed ones are rebuilt here by hand.

import { Tensor } from "../tensor/tensor.js";
import { checkElements, type TypedArray } from "../tensor/dtype.js";
import { MAX_FILE_BYTES, readRegularFile } from "./files.js";
import { bfloat16ToFloat32, halfToFloat32, plainBytes, type Bytes } from "./bytes.js";

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
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    readonly at: number,
  ) {}
}

// ---------------------------------------------------------------------------------------------------
// The pickle machine.

class Global {
  constructor(readonly name: string) {}
}
class Tuple {
  constructor(readonly items: unknown[]) {}
}
class Dict {
  readonly entries = new Map<unknown, unknown>();
  ordered = false;
}
const MARK = Symbol("mark");

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

interface PickleContext {
  file: string;
  entry: string;
  /** Resolve a persistent id (a tuple) to a Storage. */
  persistent: (pid: unknown, at: number) => Storage;
  tensors: PendingTensor[];
}

const OP_NAMES: Record<number, string> = {};

function describe(v: unknown): string {
  if (v instanceof Global) return `global '${v.name}'`;
  if (v instanceof Tuple) return `a tuple of ${v.items.length}`;
  if (v instanceof Dict) return "a dict";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Storage) return "a storage";
  if (v instanceof PendingTensor) return "a tensor";
  if (v === null) return "None";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * Run one pickle from `bytes[start]`; returns the value and the offset after its STOP. `fail(at, msg)`
 * builds errors that name the file, the entry and the byte offset.
 */
function unpickle(bytes: Uint8Array, start: number, ctx: PickleContext): { value: unknown; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const where = (at: number) => `${ctx.file}: ${ctx.entry ? ctx.entry + ", " : ""}byte ${at}`;
  const fail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${where(at)}: ${msg}`);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = start;
  let opAt = start;
  const need = (n: number) => {
    if (p + n > bytes.length)
      throw fail(opAt, `the pickle ends inside an instruction (${n} more bytes needed, ${bytes.length - p} left): the file is truncated`);
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true));
  const i32 = () => (need(4), (p += 4), dv.getInt32(p - 4, true));
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(bytes.length)) throw fail(opAt, `a length of ${v} bytes, more than the file holds`);
    return Number(v);
  };
  const take = (n: number) => {
    need(n);
    p += n;
    return bytes.subarray(p - n, p);
  };
  const line = () => {
    const e = bytes.indexOf(10, p);
    if (e < 0) throw fail(opAt, "a text argument has no end of line: the file is truncated");
    const s = latin1(bytes.subarray(p, e));
    p = e + 1;
    return s;
  };
  const badText = () => fail(opAt, "a string that is not valid UTF-8");
  const pop = () => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]))
      throw fail(opAt, "the pickle pops from an empty stack");
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw fail(opAt, "the pickle reads an empty stack");
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw fail(opAt, "the pickle closes a mark it never opened");
    return stack.splice(m);
  };
  const global = (module: string, name: string) => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) {
      throw fail(
        opAt,
        `global '${full}' is not allowed: loadTorch reads only tensors, storages and dicts / lists of them (as torch.load(weights_only=True)), and never runs code from a file` +
          (/^torch\.nn\.|^torchvision\.|^__main__\./.test(full)
            ? " — this file holds a whole pickled model; save model.state_dict() instead"
            : ""),
      );
    }
    return new Global(full);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Dict)) throw fail(opAt, `SETITEM(S) on ${describe(d)}, not a dict`);
    if (kv.length % 2) throw fail(opAt, "SETITEMS with an odd number of keys and values");
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i];
      if (!(typeof k === "string" || typeof k === "number" || typeof k === "bigint" || typeof k === "boolean" || k === null))
        throw fail(opAt, `a dict key is ${describe(k)}; only strings, numbers, booleans and None are read`);
      d.entries.set(k, kv[i + 1]);
    }
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) throw fail(opAt, `APPEND(S) on ${describe(l)}, not a list`);
    for (const x of items) l.push(x);
  };

  for (;;) {
    opAt = p;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw fail(opAt, `pickle protocol ${bytes[p - 1]} (at most 5 is read)`);
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) throw fail(opAt, `the pickle stops with ${stack.length} values on its stack (1 expected)`);
        return { value: stack[0], end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : u32();
        if (n > 64) throw fail(opAt, `an integer of ${n} bytes (at most 64 are read)`);
        stack.push(longLE(take(n)));
        break;
      }
      case 0x49: {
        // INT (text): also True / False in protocol 0
        const s = line();
        if (s === "01") stack.push(true);
        else if (s === "00") stack.push(false);
        else stack.push(parseIntText(s, () => fail(opAt, `INT ${JSON.stringify(s)} is not an integer`)));
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, "");
        stack.push(parseIntText(s, () => fail(opAt, `LONG ${JSON.stringify(s)} is not an integer`)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (s.trim() === "" || (Number.isNaN(v) && !/nan/i.test(s))) throw fail(opAt, `FLOAT ${JSON.stringify(s)} is not a number`);
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8(take(u32()), badText));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(take(u8()), badText));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(take(u64()), badText));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1(take(i32NonNeg(i32(), fail, opAt))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new Tuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new Tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new Tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop(),
          b = pop();
        stack.push(new Tuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new Tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const x = pop();
        append(top(), [x]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Dict());
        break;
      case 0x64: {
        // DICT
        const d = new Dict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(parseMemoKey(line(), fail, opAt), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET (text)
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : parseMemoKey(line(), fail, opAt);
        if (!memo.has(k)) throw fail(opAt, `memo entry ${k} is read before it is written`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(),
          module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          throw fail(opAt, "STACK_GLOBAL with a module or name that is not a string");
        stack.push(global(module, name));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(ctx.persistent(pop(), opAt));
        break;
      case 0x50: // PERSID (text)
        throw fail(opAt, "a text persistent id (PERSID): torch.save never writes one");
      case 0x52: {
        // REDUCE
        const args = pop(),
          fn = pop();
        if (!(fn instanceof Global)) throw fail(opAt, `REDUCE calls ${describe(fn)}, not an allowed global`);
        if (!(args instanceof Tuple)) throw fail(opAt, `REDUCE of '${fn.name}' with ${describe(args)} as arguments, not a tuple`);
        stack.push(rebuild(fn.name, args.items, opAt, ctx, fail));
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's attributes (a state dict's `_metadata`), which are dropped
        const state = pop();
        const obj = top();
        if (!(obj instanceof Dict && obj.ordered))
          throw fail(opAt, `BUILD (setting attributes) on ${describe(obj)}: only an OrderedDict's attributes are read`);
        if (!(state instanceof Dict || state === null)) throw fail(opAt, `BUILD with ${describe(state)} as the attributes`);
        break;
      }
      case 0x81: // NEWOBJ
      case 0x92: // NEWOBJ_EX
      case 0x69: // INST
      case 0x6f: // OBJ
        throw fail(opAt, `${OP_NAMES[op]} (building an object of a class) is not allowed: loadTorch never constructs classes from a file`);
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw fail(opAt, "an extension-registry global (EXT1/2/4) is not allowed");
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw fail(opAt, "out-of-band buffers (protocol 5) are not read");
      case 0x90: // EMPTY_SET
      case 0x91: // ADDITEMS
      case 0x96: // FROZENSET
        throw fail(opAt, "sets are not read (a state dict has none)");
      default:
        throw fail(opAt, `unknown pickle opcode 0x${op.toString(16).padStart(2, "0")}: not a pickle, or a corrupt one`);
    }
  }
}
Object.assign(OP_NAMES, { 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x69: "INST", 0x6f: "OBJ" });

function i32NonNeg(n: number, fail: (at: number, msg: string) => Error, at: number): number {
  if (n < 0) throw fail(at, `a negative length ${n}`);
  return n;
}

function parseMemoKey(s: string, fail: (at: number, msg: string) => Error, at: number): number {
  if (!/^\d{1,9}$/.test(s)) throw fail(at, `memo key ${JSON.stringify(s)} is not a small integer`);
  return Number(s);
}

function parseIntText(s: string, fail: () => Error): number | bigint {
  if (!/^[-+]?\d{1,400}$/.test(s)) throw fail();
  const b = BigInt(s);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** A little-endian two's-complement integer: a number when it is safe, a bigint beyond. */
function longLE(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
function utf8(b: Uint8Array, fail: () => Error): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw fail();
  }
}
function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
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
function rebuild(name: string, args: unknown[], at: number, ctx: PickleContext, fail: (at: number, msg: string) => Error): unknown {
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
// The zip container (PyTorch writes every entry stored, 64-byte aligned).

interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressed: number;
  size: number;
  local: number;
  at: number;
}

// CRC-32 (zip's polynomial), slicing by 8: eight tables, eight bytes per step.
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();
function crc32(b: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  for (const end = b.length - 7; i < end; i += 8) {
    const lo = (c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24))) >>> 0;
    c =
      t[7 * 256 + (lo & 0xff)] ^
      t[6 * 256 + ((lo >>> 8) & 0xff)] ^
      t[5 * 256 + ((lo >>> 16) & 0xff)] ^
      t[4 * 256 + (lo >>> 24)] ^
      t[3 * 256 + b[i + 4]] ^
      t[2 * 256 + b[i + 5]] ^
      t[256 + b[i + 6]] ^
      t[b[i + 7]];
  }
  for (; i < b.length; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function readZip(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  const fail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${file}: byte ${at}: ${msg}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  let eocd = -1;
  for (let i = len - 22; i >= Math.max(0, len - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw fail(len, "no zip end-of-central-directory record: the file is truncated or not a zip archive");
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOff = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw fail(eocd, "a zip64 archive without its zip64 locator");
    const rec = Number(dv.getBigUint64(loc + 8, true));
    if (rec + 56 > len || dv.getUint32(rec, true) !== 0x06064b50) throw fail(loc, "the zip64 locator points outside the file");
    count = Number(dv.getBigUint64(rec + 32, true));
    cdSize = Number(dv.getBigUint64(rec + 40, true));
    cdOff = Number(dv.getBigUint64(rec + 48, true));
  }
  if (cdOff + cdSize > len)
    throw fail(
      eocd,
      `the central directory (${cdSize} bytes at ${cdOff}) lies beyond the end of the file (${len} bytes): the file is truncated`,
    );
  const entries = new Map<string, ZipEntry>();
  let p = cdOff;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOff + cdSize || dv.getUint32(p, true) !== 0x02014b50)
      throw fail(p, `central directory entry ${i} of ${count} is missing or corrupt`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressed = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true),
      extraLen = dv.getUint16(p + 30, true),
      commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdOff + cdSize) throw fail(p, `central directory entry ${i} runs past the directory`);
    const name = utf8(bytes.subarray(p + 46, p + 46 + nameLen), () =>
      fail(p, `central directory entry ${i}: a name that is not valid UTF-8`),
    );
    // zip64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in order
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = dv.getUint16(e, true),
        sz = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          if (q + 8 > e + 4 + sz) throw fail(e, `entry '${name}': a short zip64 field`);
          const v = Number(dv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + sz;
    }
    if (entries.has(name)) throw fail(p, `the archive names '${name}' twice`);
    entries.set(name, { name, method, crc, compressed, size, local, at: p });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function entryBytes(bytes: Uint8Array, e: ZipEntry, file: string): Uint8Array {
  const fail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${file}: byte ${at}: entry '${e.name}': ${msg}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.local + 30 > bytes.length || dv.getUint32(e.local, true) !== 0x04034b50)
    throw fail(e.local, "no local header where the directory says: the file is corrupt or truncated");
  if (e.method !== 0)
    throw fail(
      e.local,
      `compression method ${e.method} (torch.save stores entries uncompressed; this archive was rewritten by another tool)`,
    );
  const start = e.local + 30 + dv.getUint16(e.local + 26, true) + dv.getUint16(e.local + 28, true);
  if (e.size !== e.compressed) throw fail(e.local, "a stored entry whose sizes disagree");
  if (start + e.size > bytes.length)
    throw fail(start, `${e.size} bytes of data, but the file ends after ${bytes.length - start}: the file is truncated`);
  const data = bytes.subarray(start, start + e.size);
  const crc = crc32(data);
  if (crc !== e.crc) throw fail(start, `CRC-32 ${hex(crc)} differs from the recorded ${hex(e.crc)}: the data is corrupt`);
  return data;
}
const hex = (n: number) => "0x" + n.toString(16).padStart(8, "0");

// ---------------------------------------------------------------------------------------------------

function loadZip(bytes: Uint8Array, file: string): TorchValue {
  const entries = readZip(bytes, file);
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1)
    throw new TorchLoadError(
      `loadTorch: ${file}: ${pkls.length ? "more than one" : "no"} '<name>/data.pkl' entry: not an archive written by torch.save`,
    );
  const prefix = pkls[0].slice(0, -"data.pkl".length);
  let littleEndian = true;
  const bo = entries.get(prefix + "byteorder");
  if (bo) {
    const s = latin1(entryBytes(bytes, bo, file));
    if (s !== "little" && s !== "big")
      throw new TorchLoadError(`loadTorch: ${file}: entry '${bo.name}' says '${s.slice(0, 20)}', not 'little' or 'big'`);
    littleEndian = s === "little";
  }
  const entry = pkls[0];
  const pkl = entryBytes(bytes, entries.get(entry)!, file);
  const storages = new Map<string, Storage>();
  const fail = (at: number, msg: string) => new TorchLoadError(`loadTorch: ${file}: ${entry}, byte ${at}: ${msg}`);
  const ctx: PickleContext = { file, entry, persistent: storageResolver(storages, false, fail), tensors: [] };
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
    s.bytes = entryBytes(bytes, e, file);
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
    const ctx: PickleContext = { file, entry: what, persistent: noStorage, tensors: [] };
    return unpickle(bytes, start, ctx);
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
  const ctx: PickleContext = { file, entry: "", persistent: storageResolver(storages, true, fail), tensors: [] };
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
