// Bytes a caller hands in, and the element conversions the readers share. Bytes are taken as a plain
// Uint8Array view: a Node Buffer's slice() shares memory instead of
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

/** float16 bits → float32 array (IEEE half: subnormals, infinities and NaN kept). */
export function halfToFloat32(h: Uint16Array): Float32Array {
  return Float32Array.from(h, (x) => {
    const s = x & 0x8000 ? -1 : 1;
    const e = (x >> 10) & 0x1f,
      f = x & 0x3ff;
    if (e === 0) return s * f * 2 ** -24;
    if (e === 31) return f ? NaN : s * Infinity;
    return s * (1 + f / 1024) * 2 ** (e - 15);
  });
}

/** bfloat16 bits → float32 array (bfloat16 is float32's top 16 bits). */
export function bfloat16ToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length),
    u = new Uint32Array(out.buffer);
  for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
  return out;
}

/** UTF-8 text; `fail()` builds the error for invalid bytes. */
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
export function utf8(b: Uint8Array, fail: () => Error): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw fail();
  }
}
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}
