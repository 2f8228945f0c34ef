// Bytes a caller hands in, as a plain Uint8Array view: a Node Buffer's slice() shares memory instead of
// copying, and its `.buffer` may be a pool holding other data, so readers never use either on the
// caller's object.

/** Bytes as callers hold them: a Uint8Array (a Buffer included), any other typed-array view, or an ArrayBuffer. */
export type Bytes = ArrayBufferView | ArrayBuffer;

/** `v` as a plain Uint8Array over the same bytes. */
export function plainBytes(v: unknown, op: string): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(
    `${op}: expected a path, a Uint8Array or an ArrayBuffer, got ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v}`,
  );
}
