// The wasm backend: the C++ kernels of native/ compiled to WebAssembly SIMD128 (scripts/build-wasm.sh,
// wasm/nabla.wasm) as a compiled backend (../compiled), for browsers and, with NABLA_BACKEND=wasm, Node.
//
// Tensors stay ordinary typed arrays: each kernel call copies its array arguments into one scratch block of
// the module's memory (grown as needed, reused across calls), runs the kernel there, and copies back the
// arrays the kernel writes (marked `!` in kernel_list.h). An argument passed twice (in place) is copied once.
// The module checks every call as the Node addon does and its errors read "nabla wasm <kernel>: …".

import { registerBackend, type Backend } from "../backend.js";
import { KERNELS, type Addon } from "../compiled/list.generated.js";
import { compiledBackend } from "../compiled/backend.js";

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  nb_alloc(bytes: number): number;
  nb_free(p: number): void;
  nb_kernel_count(): number;
  nb_kernel_name(k: number): number;
  nb_kernel_spec(k: number): number;
  nb_call(k: number, args: number, argc: number): number;
  nb_error(): number;
  nb_threads(): number;
}

/** The few WASI imports wasi-libc's startup and stdio reference: no environment, writes go to the console. */
function wasiImports(memory: () => WebAssembly.Memory): WebAssembly.ModuleImports {
  const view = () => new DataView(memory().buffer);
  return {
    environ_sizes_get: (count: number, size: number) => (view().setUint32(count, 0, true), view().setUint32(size, 0, true), 0),
    environ_get: () => 0,
    fd_close: () => 0,
    fd_seek: () => 70, // ESPIPE
    fd_write: (_fd: number, iovs: number, n: number, written: number) => {
      const v = view();
      let text = "",
        total = 0;
      for (let i = 0; i < n; i++) {
        const p = v.getUint32(iovs + 8 * i, true),
          len = v.getUint32(iovs + 8 * i + 4, true);
        text += new TextDecoder().decode(new Uint8Array(memory().buffer, p, len));
        total += len;
      }
      if (text.trim() !== "") console.warn(text.trimEnd());
      v.setUint32(written, total, true);
      return 0;
    },
    proc_exit: (code: number) => {
      throw new Error(`nabla wasm: the module exited with code ${code}`);
    },
  };
}

const RECORD = 24; // bytes per argument record (WasmArg in native/binding/wasm.cc)
const TYPE_CODE = new Map<unknown, number>([
  [Float32Array, 1],
  [Float64Array, 2],
  [Int32Array, 3],
]);
const align = (n: number) => (n + 63) & ~63;

/** The module's kernels as the Addon interface: each call marshalled through the module's memory. */
function marshaller(ex: Exports): Addon {
  const str = (p: number) => {
    const u8 = new Uint8Array(ex.memory.buffer);
    let end = p;
    while (u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(p, end));
  };
  // the module must have been built from this kernel list
  const count = ex.nb_kernel_count();
  const mismatch =
    count !== KERNELS.length
      ? `${count} kernels, this nabla has ${KERNELS.length}`
      : KERNELS.map((k, i) => (str(ex.nb_kernel_name(i)) !== k.name || str(ex.nb_kernel_spec(i)) !== k.spec ? k.name : null)).find(
          (x) => x,
        );
  if (mismatch)
    throw new Error(`nabla wasm: the module was built from another kernel list (${mismatch}); rebuild it with npm run build:wasm`);

  let scratch = 0,
    capacity = 0;
  const call = (id: number, name: string, spec: string, writes: readonly number[], args: unknown[]): void => {
    const n = Math.min(args.length, spec.length);
    // lay out: the records, then each distinct typed array (64-byte aligned)
    const at = new Array<number>(n).fill(-1);
    const seen = new Map<unknown, number>();
    let bytes = align(n * RECORD);
    for (let i = 0; i < n; i++) {
      const v = args[i];
      if (!ArrayBuffer.isView(v) || !TYPE_CODE.has(v.constructor)) continue;
      const prior = seen.get(v);
      if (prior !== undefined) at[i] = prior;
      else {
        seen.set(v, (at[i] = bytes));
        bytes += align(v.byteLength);
      }
    }
    if (bytes > capacity) {
      if (scratch !== 0) ex.nb_free(scratch);
      capacity = Math.max(bytes, Math.ceil(capacity * 1.5));
      scratch = ex.nb_alloc(capacity);
      if (scratch === 0) {
        capacity = 0;
        throw new RangeError(`nabla wasm ${name}: cannot grow the module's memory to ${bytes} more bytes`);
      }
    }
    let u8 = new Uint8Array(ex.memory.buffer);
    const i32 = new Int32Array(ex.memory.buffer, scratch, (n * RECORD) / 4);
    const f64 = new Float64Array(ex.memory.buffer, scratch, (n * RECORD) / 8);
    for (let i = 0; i < n; i++) {
      const v = args[i],
        r = (i * RECORD) / 4;
      i32.fill(0, r, r + 4);
      f64[r / 2 + 2] = 0;
      if (v === null || v === undefined) continue; // tag 0
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        const a = v as unknown as { length: number; byteLength: number; byteOffset: number; buffer: ArrayBufferLike };
        i32[r] = 1;
        i32[r + 1] = TYPE_CODE.get(v.constructor) ?? 0;
        i32[r + 3] = a.length;
        if (at[i] >= 0) {
          i32[r + 2] = scratch + at[i];
          // every array is copied in: col2im, scatterAdd and the optimizer updates read what they write
          if (seen.get(v) === at[i]) u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), scratch + at[i]);
        }
      } else if (typeof v === "number") {
        i32[r] = 2;
        f64[r / 2 + 2] = v;
      } else if (typeof v === "boolean") {
        i32[r] = 3;
        f64[r / 2 + 2] = v ? 1 : 0;
      } else i32[r] = 4;
    }
    const rc = ex.nb_call(id, scratch, args.length);
    if (rc !== 0) {
      const msg = str(ex.nb_error());
      throw rc === 1 ? new TypeError(msg) : new RangeError(msg);
    }
    u8 = new Uint8Array(ex.memory.buffer); // the kernel may have grown the memory
    for (const i of writes) {
      const v = args[i];
      if (i >= n || at[i] < 0 || seen.get(v) !== at[i]) continue;
      const a = v as { byteLength: number; byteOffset: number; buffer: ArrayBufferLike };
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(u8.subarray(scratch + at[i], scratch + at[i] + a.byteLength));
    }
  };
  const addon: Record<string, unknown> = { info: () => ({ isa: "wasm-simd128", threads: ex.nb_threads() }) };
  KERNELS.forEach((k, id) => {
    addon[k.name] = (...args: unknown[]) => call(id, k.name, k.spec, k.writes, args);
  });
  return addon as unknown as Addon;
}

/** Instantiate the compiled module (synchronously: Node, or a Web Worker) and return the wasm backend. */
export function wasmBackendFromModule(module: WebAssembly.Module, info: Record<string, string | number> = {}): Backend {
  let memory: WebAssembly.Memory | null = null;
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasiImports(() => memory!) });
  const ex = instance.exports as unknown as Exports;
  memory = ex.memory;
  ex._initialize();
  return compiledBackend("wasm", marshaller(ex), info);
}

/** Where the module comes from: its bytes, a compiled module, a Response, or a URL to fetch. */
export type WasmSource = BufferSource | WebAssembly.Module | Response | URL | string;

/**
 * Compile and instantiate the wasm module, register it as the backend "wasm" and return it (then
 * `setBackend("wasm")` selects it). Without a source: the package's wasm/nabla.wasm (in Node from the file;
 * elsewhere fetched from the package's wasm/ folder next to dist/; a bundle moves files, so pass its URL there).
 */
export async function loadWasm(source?: WasmSource): Promise<Backend> {
  let module: WebAssembly.Module;
  if (source === undefined && defaultSource !== null) return defaultSource();
  const src = source ?? new URL("../../../wasm/nabla.wasm", import.meta.url);
  if (src instanceof WebAssembly.Module) module = src;
  else if (typeof src === "string" || src instanceof URL) {
    const r = await fetch(src);
    if (!r.ok) throw new Error(`nabla wasm: cannot fetch ${String(src)} (${r.status} ${r.statusText})`);
    module = await WebAssembly.compile(await r.arrayBuffer());
  } else if (typeof Response !== "undefined" && src instanceof Response) module = await WebAssembly.compile(await src.arrayBuffer());
  else module = await WebAssembly.compile(src as BufferSource);
  const backend = wasmBackendFromModule(module, { module: typeof src === "string" || src instanceof URL ? String(src) : "given" });
  registerBackend(backend);
  return backend;
}

let defaultSource: (() => Backend) | null = null;
/** The platform's way to load the package's own module (Node: from the file, synchronously). */
export function setDefaultWasm(load: () => Backend): void {
  defaultSource = load;
}
