// The threaded wasm module (wasm/nabla-threads.wasm): one shared memory, the caller's instance, and a pool of
// workers — Web Workers in a browser, worker_threads in Node — each running its own instance of the same
// module on that memory (native/binding/wasm_threads.cc has the pool's side). Shared memory exists only
// where SharedArrayBuffer does: in Node, and in pages that are cross-origin isolated (COOP/COEP headers).

import { nodeModule } from "../../platform.js";

/** The shared memory's sizes, in 64 KiB pages, as scripts/build-wasm.sh links the module (16 MB up to 4 GB). */
export const SHARED_PAGES = { initial: 256, maximum: 65536 };
/** Each worker's stack (the module's own is 64 KiB; the kernels need far less). */
const WORKER_STACK = 256 * 1024;

/** True when the module was linked for threads (it imports its memory, which is shared). */
export function isThreadedModule(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.module === "env" && i.name === "memory" && i.kind === "memory");
}

/** Why shared memory is not available here, or null when it is. */
export function sharedMemoryUnavailable(): string | null {
  if (typeof SharedArrayBuffer === "undefined")
    return "SharedArrayBuffer is not available (a page must be cross-origin isolated: COOP same-origin and COEP require-corp)";
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false)
    return "the page is not cross-origin isolated (COOP same-origin and COEP require-corp)";
  return null;
}

/** The threads to use when none is asked for: NABLA_NUM_THREADS in Node, else the cores this platform reports. */
export function defaultThreads(): number {
  const env = typeof process === "undefined" ? undefined : process.env?.NABLA_NUM_THREADS;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, 256);
    console.warn(`nabla: NABLA_NUM_THREADS=${env} is not a whole number of threads; using the cores`);
  }
  const os = nodeModule("node:os");
  if (os !== null) return Math.max(1, os.availableParallelism());
  return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
}

// A worker's whole program: instantiate the module on the shared memory, take its own stack, and enter the
// pool's loop (nb_worker returns only by a trap, which fails the pool: see nb_worker_failed). The same text
// runs as a Web Worker and as an eval'd worker_threads worker; the WASI imports are those of the caller's
// instance, with writes going to the console.
const WORKER_SOURCE = `"use strict";
const node = typeof self === "undefined";
function start(d) {
  const memory = d.memory;
  const view = () => new DataView(memory.buffer);
  const wasi = {
    environ_sizes_get: (c, s) => (view().setUint32(c, 0, true), view().setUint32(s, 0, true), 0),
    environ_get: () => 0,
    fd_close: () => 0,
    fd_seek: () => 70,
    fd_write: (fd, iovs, n, written) => {
      const v = view(); let text = "", total = 0;
      for (let i = 0; i < n; i++) {
        const p = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
        text += new TextDecoder().decode(new Uint8Array(memory.buffer, p, len).slice());
        total += len;
      }
      if (text.trim() !== "") console.warn(text.trimEnd());
      v.setUint32(written, total, true);
      return 0;
    },
    proc_exit: (code) => { throw new Error("nabla wasm: a worker's module exited with code " + code); },
  };
  let instance;
  try {
    instance = new WebAssembly.Instance(d.module, { env: { memory }, wasi_snapshot_preview1: wasi });
  } catch (e) {
    throw new Error("could not start: " + e.message);
  }
  instance.exports.__stack_pointer.value = d.stackTop;
  try {
    instance.exports.nb_worker();
  } catch (e) {
    // a trap: leave the pool's generation and mark it failed, so that the caller traps instead of waiting
    instance.exports.nb_worker_failed();
    throw e;
  }
}
if (node) start(process.getBuiltinModule("node:worker_threads").workerData);
else self.onmessage = (e) => start(e.data);
`;

/** The little of the DOM's Worker used here (the library is typed without the DOM). */
type WebWorkerClass = new (url: string) => { onerror: ((e: { message: string }) => void) | null; postMessage(data: unknown): void };

/** The worker script as a blob: URL, made once per page or worker. */
let workerUrl: string | undefined;

interface PoolExports {
  nb_alloc(bytes: number): number;
  nb_threads_prepare(threads: number): void;
  nb_workers_started(): number;
}

/**
 * Size the pool at `threads` and start `threads - 1` workers on the module's shared memory (the caller's
 * instance, already initialized, is the first thread). The kernels split their work for `threads` at
 * once; workers take tasks as they come up (until then the caller runs them all), so the bits do not
 * depend on how many have. Workers never keep a Node process alive.
 */
export function startWorkers(module: WebAssembly.Module, memory: WebAssembly.Memory, ex: PoolExports, threads: number, start = true): void {
  ex.nb_threads_prepare(threads);
  if (threads <= 1 || !start) return;
  let reported = false;
  const report = (e: unknown) => {
    const message = (e as Error)?.message ?? String(e);
    if (!reported)
      console.warn(
        /could not start/.test(message)
          ? `nabla wasm: a worker ${message}; the caller runs its share of the tasks`
          : `nabla wasm: a worker trapped (${message}); the call it was part of fails, and so does every later one`,
      );
    reported = true;
  };
  const wt = nodeModule("node:worker_threads");
  for (let i = 1; i < threads; i++) {
    const stack = ex.nb_alloc(WORKER_STACK);
    if (stack === 0) throw new RangeError("nabla wasm: cannot allocate a worker's stack in the module's memory");
    const data = { module, memory, stackTop: stack + WORKER_STACK };
    if (wt !== null) {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
      w.on("error", report);
      w.unref();
    } else {
      const WebWorker = (globalThis as { Worker?: WebWorkerClass }).Worker;
      if (WebWorker === undefined) throw new Error("nabla wasm: threads need Web Workers, and this context has none");
      workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
      const w = new WebWorker(workerUrl);
      w.onerror = (e) => report(e.message);
      w.postMessage(data);
    }
  }
}

/** Resolves once the `threads - 1` workers are in the pool, or after `timeoutMs` (then saying how many are). */
export async function workersReady(ex: PoolExports, threads: number, timeoutMs = 10000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (ex.nb_workers_started() < threads - 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
  reportShort(ex, threads, timeoutMs);
}

/** The same, blocking (Node's main thread may wait; a browser's may not). */
export function workersReadySync(ex: PoolExports, threads: number, timeoutMs = 10000): void {
  const until = Date.now() + timeoutMs;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (ex.nb_workers_started() < threads - 1 && Date.now() < until) Atomics.wait(nap, 0, 0, 1);
  reportShort(ex, threads, timeoutMs);
}

function reportShort(ex: PoolExports, threads: number, timeoutMs: number): void {
  const started = ex.nb_workers_started();
  if (started < threads - 1)
    console.warn(
      `nabla wasm: ${started} of ${threads - 1} workers started within ${timeoutMs / 1000} s; the caller runs the others' tasks`,
    );
}
