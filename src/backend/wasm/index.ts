// The wasm backend: the C++ kernels of native/ compiled to WebAssembly SIMD128 (scripts/build-wasm.sh,
// wasm/nabla.wasm) as a compiled backend (../compiled), for browsers and, with NABLA_BACKEND=wasm, Node.
//
// Tensors stay ordinary typed arrays: each kernel call copies its array arguments into one scratch block of
// the module's memory (grown as needed, reused across calls), runs the kernel there, and copies back the
// arrays the kernel writes (marked `!` in kernel_list.h). An argument passed twice (in place) is copied once.
// The module checks every call as the Node addon does and its errors read "nabla wasm <kernel>: …".

import { loadWithLoader, registerBackend, type Backend } from "../backend.js";
import { KERNELS, type Addon } from "../compiled/list.generated.js";
import { compiledBackend } from "../compiled/backend.js";
import {
  SHARED_PAGES,
  defaultThreads,
  isThreadedModule,
  sharedMemoryUnavailable,
  startWorkers,
  workersReady,
  workersReadySync,
} from "./threads.js";

interface Exports {
  memory: WebAssembly.Memory; // the one-thread module's own; the threaded module imports a shared one
  _initialize(): void;
  nb_alloc(bytes: number): number;
  nb_free(p: number): void;
  nb_kernel_count(): number;
  nb_kernel_name(k: number): number;
  nb_kernel_spec(k: number): number;
  nb_call(k: number, args: number, argc: number): number;
  nb_error(): number;
  nb_threads_prepare(threads: number): void;
  nb_workers_started(): number;
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
        text += new TextDecoder().decode(new Uint8Array(memory().buffer, p, len).slice()); // not a view of shared memory
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
function marshaller(ex: Exports, threads: () => number, poison = false): Addon {
  const str = (p: number) => {
    const u8 = new Uint8Array(ex.memory.buffer);
    let end = p;
    while (u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.slice(p, end));
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
  let broken: string | null = null;
  const call = (id: number, name: string, spec: string, writes: readonly number[], fresh: readonly number[], args: unknown[]): void => {
    if (broken !== null)
      throw new Error(`nabla wasm ${name}: this module is unusable since ${broken}; load it again with nb.backend.loadWasm`);
    const n = Math.min(args.length, spec.length);
    // lay out: the records, then each distinct typed array (64-byte aligned); an array is copied in unless
    // its every position is one the kernel writes in full (`fresh`)
    const at = new Array<number>(n).fill(-1);
    const seen = new Map<unknown, number>();
    const copyIn = new Set<unknown>(),
      placed = new Set<unknown>();
    let bytes = align(n * RECORD);
    for (let i = 0; i < n; i++) {
      const v = args[i];
      if (!ArrayBuffer.isView(v) || !TYPE_CODE.has(v.constructor)) continue;
      if (!fresh.includes(i)) copyIn.add(v);
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
          if (!placed.has(v)) {
            placed.add(v);
            if (copyIn.has(v)) u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), scratch + at[i]);
            else if (poison) u8.fill(0xff, scratch + at[i], scratch + at[i] + a.byteLength); // NaN, and -1 in an Int32Array
          }
        }
      } else if (typeof v === "number") {
        i32[r] = 2;
        f64[r / 2 + 2] = v;
      } else if (typeof v === "boolean") {
        i32[r] = 3;
        f64[r / 2 + 2] = v ? 1 : 0;
      } else i32[r] = 4;
    }
    let rc: number;
    try {
      rc = ex.nb_call(id, scratch, args.length);
    } catch (e) {
      // a trap (a failed allocation aborts; a worker's trap fails its caller): the module's heap and pool
      // may be mid-update, so this instance takes no further call
      broken = `${name} trapped (${(e as Error).message})`;
      throw new Error(`nabla wasm ${name}: the module trapped (${(e as Error).message}); load it again with nb.backend.loadWasm`);
    }
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
  const addon: Record<string, unknown> = { info: () => ({ isa: "wasm-simd128", threads: threads() }) };
  KERNELS.forEach((k, id) => {
    addon[k.name] = (...args: unknown[]) => call(id, k.name, k.spec, k.writes, k.fresh, args);
  });
  return addon as unknown as Addon;
}

/** How the wasm backend runs. */
export interface WasmOptions {
  /**
   * Threads, the caller's included (default: NABLA_NUM_THREADS in Node, else the cores). More than one
   * needs the threaded module (wasm/nabla-threads.wasm) and shared memory: Node, or a cross-origin
   * isolated page.
   */
  threads?: number;
}

function checkOptions(options: unknown): WasmOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new TypeError(`nabla wasm: options must be an object like { threads: 2 }, got ${String(options)}`);
  for (const key of Object.keys(options))
    if (key !== "threads") throw new TypeError(`nabla wasm: unknown option '${key}' (the options are: threads)`);
  const t = (options as WasmOptions).threads;
  if (t !== undefined && (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > 256))
    throw new TypeError(`nabla wasm: threads must be a whole number from 1 to 256, got ${String(t)}`);
  return options as WasmOptions;
}

/** An instance of the module and, for the threaded module, its pool's workers starting. */
function instantiate(module: WebAssembly.Module, options: WasmOptions, workers = true): { ex: Exports; threads: number } {
  const threaded = isThreadedModule(module);
  const threads = threaded ? (options.threads ?? defaultThreads()) : 1;
  if (!threaded && options.threads !== undefined && options.threads > 1)
    throw new TypeError(
      `nabla wasm: threads: ${options.threads} needs the threaded module (wasm/nabla-threads.wasm); this one has one thread`,
    );
  let memory: WebAssembly.Memory | null = null;
  if (threaded) {
    const why = sharedMemoryUnavailable();
    if (why !== null) throw new Error(`nabla wasm: the threaded module needs shared memory, but ${why}; load wasm/nabla.wasm instead`);
    memory = new WebAssembly.Memory({ ...SHARED_PAGES, shared: true });
  }
  const imports: WebAssembly.Imports = { wasi_snapshot_preview1: wasiImports(() => memory!) };
  if (threaded) imports.env = { memory: memory! };
  const instance = new WebAssembly.Instance(module, imports);
  const ex = (threaded ? { ...instance.exports, memory } : instance.exports) as unknown as Exports;
  memory = ex.memory;
  ex._initialize();
  if (threaded) startWorkers(module, memory, ex, threads, workers);
  return { ex, threads };
}

/**
 * Instantiate the compiled module (synchronously: Node, or a Web Worker) and return the wasm backend. In
 * Node the threaded module's workers are waited for (up to 10 s); elsewhere they join as they come up (a
 * browser thread must return to its event loop for a worker to start: loadWasm awaits them).
 */
export function wasmBackendFromModule(
  module: WebAssembly.Module,
  info: Record<string, string | number> = {},
  options?: WasmOptions,
  /**
   * For tests: `workers: false` sizes the pool but starts no worker (the caller runs every task);
   * `poison: true` fills the arrays a kernel writes in full with NaN (-1 in Int32Arrays) instead of leaving
   * the block's previous bytes, so that an element a `!` argument's kernel does not write shows;
   * `exports` receives the instance's exports (nb_test_trap_in_worker).
   */
  testing: { workers?: boolean; poison?: boolean; exports?: (ex: Record<string, unknown>) => void } = {},
): Backend {
  const workers = testing.workers ?? true;
  const { ex, threads } = instantiate(module, checkOptions(options), workers);
  testing.exports?.(ex as unknown as Record<string, unknown>);
  if (threads > 1 && workers && typeof process !== "undefined" && typeof process.versions?.node === "string") workersReadySync(ex, threads);
  return compiledBackend(
    "wasm",
    marshaller(ex, () => threads, testing.poison ?? false),
    info,
  );
}

/** Where the module comes from: its bytes, a compiled module, a Response, or a URL to fetch. */
export type WasmSource = BufferSource | WebAssembly.Module | Response | URL | string;

let singleThreadSaid = false;

/**
 * Compile and instantiate the wasm module, register it as the backend "wasm" and return it (then
 * `setBackend("wasm")` selects it); the threaded module's workers are awaited. Without a source: the
 * package's own module — wasm/nabla-threads.wasm where shared memory is available (Node, a cross-origin
 * isolated page) and more than one thread is wanted, else wasm/nabla.wasm (saying once why one thread) — in
 * Node from the file, elsewhere fetched from the package's wasm/ folder next to dist/ (a bundle moves files:
 * pass the module's URL there).
 */
export async function loadWasm(source?: WasmSource, options?: WasmOptions): Promise<Backend> {
  const opts = checkOptions(options);
  // the platform's own way to load the package's module (Node: from its file, synchronously)
  const viaLoader = source === undefined ? loadWithLoader("wasm", opts) : null;
  if (viaLoader !== null) return viaLoader;
  let src = source;
  if (src === undefined) {
    const why = sharedMemoryUnavailable();
    if (why !== null && opts.threads !== undefined && opts.threads > 1)
      throw new Error(`nabla wasm: threads: ${opts.threads} needs shared memory, but ${why}`);
    const threaded = why === null && (opts.threads ?? defaultThreads()) > 1;
    if (why !== null && opts.threads === undefined && !singleThreadSaid) {
      singleThreadSaid = true;
      console.info(`nabla wasm: one thread, because ${why}`);
    }
    // two literal URLs: bundlers that copy `new URL("…", import.meta.url)` assets (Vite) find both modules
    src = threaded ? new URL("../../../wasm/nabla-threads.wasm", import.meta.url) : new URL("../../../wasm/nabla.wasm", import.meta.url);
  }
  let module: WebAssembly.Module;
  if (src instanceof WebAssembly.Module) module = src;
  else if (typeof src === "string" || src instanceof URL) {
    const r = await fetch(src);
    if (!r.ok) throw new Error(`nabla wasm: cannot fetch ${String(src)} (${r.status} ${r.statusText})`);
    module = await WebAssembly.compile(await r.arrayBuffer());
  } else if (typeof Response !== "undefined" && src instanceof Response) module = await WebAssembly.compile(await src.arrayBuffer());
  else module = await WebAssembly.compile(src as BufferSource);
  const { ex, threads } = instantiate(module, opts);
  if (threads > 1) await workersReady(ex, threads);
  const where = typeof src === "string" || src instanceof URL ? String(src) : "given";
  const backend = compiledBackend(
    "wasm",
    marshaller(ex, () => threads),
    { module: where },
  );
  registerBackend(backend);
  return backend;
}
