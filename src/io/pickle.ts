// A pickle reader that runs nothing: a stack machine for the opcodes of protocols 0–5 in which every
// global is checked by the caller (`refuse`) where the pickle names it, and every call (REDUCE) and
// persistent id goes to the caller's own code. Objects of classes (NEWOBJ, INST, OBJ, BUILD on anything
// but an OrderedDict) are never made. Used by io/torch.ts for what torch.save writes.

import { latin1, utf8 } from "./bytes.js";

/** A global the pickle named (allowed by the caller). */
export class Global {
  constructor(readonly name: string) {}
}
/** A tuple (lists are arrays). */
export class Tuple {
  constructor(readonly items: unknown[]) {}
}
/** A dict (`ordered` for an OrderedDict made by the caller). */
export class Dict {
  readonly entries = new Map<unknown, unknown>();
  ordered = false;
}

export interface PickleContext {
  /** The error for a problem at byte `at` of the pickle. */
  fail(at: number, msg: string): Error;
  /** Why the global `module.name` is refused, or null when it is allowed. */
  refuse(name: string): string | null;
  /** The object of a persistent id. */
  persistent(pid: unknown, at: number): unknown;
  /** REDUCE of an allowed global with these arguments. */
  call(name: string, args: unknown[], at: number): unknown;
}

const OP_NAMES: Record<number, string> = { 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x69: "INST", 0x6f: "OBJ" };

/** A value, for a message; objects of the caller's may say what they are with a `what` field. */
export function describe(v: unknown): string {
  if (v instanceof Global) return `global '${v.name}'`;
  if (v instanceof Tuple) return `a tuple of ${v.items.length}`;
  if (v instanceof Dict) return "a dict";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v !== null && typeof v === "object" && typeof (v as { what?: unknown }).what === "string") return (v as { what: string }).what;
  if (v === null) return "None";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Run one pickle from `bytes[start]`; returns the value and the offset after its STOP. */
export function unpickle(bytes: Uint8Array, start: number, ctx: PickleContext): { value: unknown; end: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = ctx.fail;
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
    const refused = ctx.refuse(full);
    if (refused !== null) throw fail(opAt, refused);
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
        stack.push(ctx.call(fn.name, args.items, opAt));
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
