// The protobuf wire format for the part of the ONNX schema an exported model uses (onnx/onnx.proto, IR
// version 8): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and TypeProto.
// Field numbers are the schema's. A writer, not a general protobuf library: messages are built inside out
// (each is complete before its parent takes it), which keeps every length known when written; the pieces
// are shared, not copied, so the bytes of a large model are copied once.

const enc = new TextEncoder();

/** One protobuf message under construction. */
export class Message {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  /** int32 / int64 / enum (negative numbers take ten bytes, as protobuf says). */
  int(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  /** A bytes field; `b` is referenced, not copied, until finish(). */
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, enc.encode(s));
  }

  /** An embedded message: its pieces are taken by reference, so a model's bytes are copied once, in finish(). */
  message(field: number, m: Message): this {
    this.key(field, 2);
    this.varint(m.size);
    for (const c of m.chunks) this.push(c);
    return this;
  }

  /** A packed repeated int64 field. */
  packedInts(field: number, vs: readonly number[]): this {
    const inner = new Message();
    for (const v of vs) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, vs: readonly number[]): this {
    const b = new Uint8Array(4 * vs.length);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let k = 0;
    for (const c of this.chunks) {
      out.set(c, k);
      k += c.length;
    }
    return out;
  }
}

/** TensorProto.DataType values. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

/** AttributeProto: an int (`3`), an int list, a string, or a float written as `{ float: x }`. */
export function attribute(name: string, v: AttrValue): Message {
  const m = new Message().string(1, name);
  if (typeof v === "number") return m.int(3, v).int(20, 2); // INT
  if (typeof v === "string") return m.string(4, v).int(20, 3); // STRING
  if (Array.isArray(v)) return m.packedInts(8, v).int(20, 7); // INTS
  if ("float" in v) return m.float(2, v.float).int(20, 1); // FLOAT
  return m.packedFloats(7, v.floats).int(20, 6); // FLOATS
}

/** NodeProto. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
): Message {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, name).string(4, opType);
  for (const [k, v] of Object.entries(attrs)) m.message(5, attribute(k, v));
  return m;
}

/** TensorProto with its values as little-endian raw_data. */
export function tensor(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): Message {
  const m = new Message();
  if (dims.length) m.packedInts(1, dims);
  return m.int(2, dataType).string(8, name).bytes(9, raw);
}

/** ValueInfoProto of a tensor; a string dimension is symbolic (dim_param). */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === "string" ? new Message().string(2, d) : new Message().int(1, d));
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** GraphProto. */
export function graph(name: string, nodes: Message[], initializers: Message[], inputs: Message[], outputs: Message[]): Message {
  const m = new Message();
  for (const n of nodes) m.message(1, n);
  m.string(2, name);
  for (const t of initializers) m.message(5, t);
  for (const i of inputs) m.message(11, i);
  for (const o of outputs) m.message(12, o);
  return m;
}

/** ModelProto: IR version 8, the default ONNX domain at `opset`, and string metadata (metadata_props). */
export function model(g: Message, opset: number, producerVersion: string, metadata: Record<string, string> = {}): Uint8Array {
  const m = new Message()
    .int(1, 8)
    .string(2, "nabla")
    .string(3, producerVersion)
    .message(7, g)
    .message(8, new Message().string(1, "").int(2, opset));
  for (const [k, v] of Object.entries(metadata)) m.message(14, new Message().string(1, k).string(2, v));
  return m.finish();
}
