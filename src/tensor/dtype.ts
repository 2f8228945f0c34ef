// Data types and their typed-array storage; promotion follows PyTorch's rules for these three types.

/** The element types a tensor can hold. `float32` is the default, as in PyTorch. */
export type DType = "float32" | "float64" | "int32";

/** Flat storage of a tensor: an ordinary typed array owned by the garbage collector. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32"];

/**
 * The most elements a tensor may hold: every kernel indexes with 32-bit integers (the addon's sizes and
 * geometry are int32), on every backend alike.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** A RangeError unless `n` elements fit a tensor; `what()` describes the tensor (called only on failure). */
export function checkElements(n: number, what: () => string): void {
  if (!(n <= MAX_ELEMENTS)) {
    throw new RangeError(`${what()} has ${n} elements, more than a tensor can hold (${MAX_ELEMENTS}: kernels index with 32-bit integers)`);
  }
}

const aTensor = () => "a tensor";

/** Allocate zero-filled storage of `n` elements of `dtype`. */
export function allocate(dtype: DType, n: number, what: () => string = aTensor): TypedArray {
  checkElements(n, what);
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
  }
}

const POISON = typeof process !== "undefined" && process.env?.NABLA_POISON_UNINIT === "1";

/**
 * Storage of `n` elements whose contents are unspecified, for kernel outputs that the kernel writes in
 * full. Large arrays skip the zero fill (on Node: an ArrayBuffer from Buffer.allocUnsafeSlow, 0.2 ms saved
 * per 6 MB); the result is still an ordinary typed array owned by the garbage collector. With
 * NABLA_POISON_UNINIT=1 every such array starts as NaN (int32: −2³¹), so a kernel that leaves an element
 * unwritten shows up in the tests.
 */
export function allocateUninit(dtype: DType, n: number, what: () => string = aTensor): TypedArray {
  checkElements(n, what);
  const bytes = n * (dtype === "float64" ? 8 : 4);
  const spare = takeSpare(dtype, n);
  if (spare) return POISON ? spare.fill(NaN) : spare;
  if (POISON) {
    const a = allocate(dtype, n);
    return a.fill(dtype === "int32" ? -2147483648 : NaN);
  }
  if (bytes < 65536 || typeof Buffer === "undefined") return allocate(dtype, n);
  const buf = Buffer.allocUnsafeSlow(bytes).buffer;
  switch (dtype) {
    case "float32":
      return new Float32Array(buf, 0, n);
    case "float64":
      return new Float64Array(buf, 0, n);
    case "int32":
      return new Int32Array(buf, 0, n);
  }
}

// Spare arrays: intermediate activations that nn/fuse.ts's chain made and saw die (no-grad forwards, see
// chain), handed to the next kernel output of their length. A new array's pages are touched first by the
// kernel's write; in a browser that costs a page fault per 4 KB (Chromium: ~0.36 µs per KB, 0.2 ms of a
// LeNet-5 b64 inference), a reused array's do not. At most SPARES_PER_SIZE arrays of each length and
// SPARE_BYTES in all are kept; the rest are left to the garbage collector, as before.
const spares = new Map<string, TypedArray[]>();
let spareBytes = 0;
const SPARE_BYTES = 32 * 2 ** 20,
  SPARES_PER_SIZE = 2,
  SPARE_MIN_BYTES = 16384;

/**
 * Keep `a` for a later kernel output of its length and type. Only for an array no one can reach any more
 * (chain's own intermediates); only whole float arrays of at least 16 KB are kept.
 */
export function releaseSpare(a: TypedArray): void {
  if (a instanceof Int32Array || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength || a.byteLength < SPARE_MIN_BYTES) return;
  const key = `${dtypeOf(a)}:${a.length}`;
  const list = spares.get(key) ?? [];
  if (list.length >= SPARES_PER_SIZE || spareBytes + a.byteLength > SPARE_BYTES || list.includes(a)) return;
  list.push(a);
  spares.set(key, list);
  spareBytes += a.byteLength;
}

/** The spare arrays held now (for tests). */
export function spareArrays(): TypedArray[] {
  return [...spares.values()].flat();
}

function takeSpare(dtype: DType, n: number): TypedArray | undefined {
  const a = spareBytes === 0 ? undefined : spares.get(`${dtype}:${n}`)?.pop();
  if (a) spareBytes -= a.byteLength;
  return a;
}

export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  throw new TypeError(`unsupported storage ${Object.prototype.toString.call(data)}`);
}

export function isFloating(dtype: DType): boolean {
  return dtype !== "int32";
}

/** Result type of a binary op: float64 > float32 > int32 (PyTorch's promotion for these types). */
export function promote(a: DType, b: DType): DType {
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") return "float32";
  return "int32";
}

export function checkDType(dtype: string, where: string): DType {
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new TypeError(`${where}: unknown dtype '${dtype}' (expected one of ${DTYPES.join(", ")})`);
  }
  return dtype as DType;
}
