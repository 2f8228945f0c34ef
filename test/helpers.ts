// Test helpers: fixture paths and small conveniences shared by the suites.

import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import * as nb from "../src/index.js";
import { wasmBackendFromModule } from "../src/backend/wasm/index.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const fixturePath = (name: string) => join(ROOT, "fixtures", name);

/** A float64 tensor that requires grad, seeded. */
export function r64(shape: number[], seed: number, scale = 1, offset = 0): nb.Tensor {
  const g = new nb.Generator(seed);
  const t = nb.randn(shape, { dtype: "float64", generator: g });
  return nb.add(nb.mul(t, scale), offset).detach().requiresGrad_();
}

/** Expect `fn` to throw an error whose message contains every fragment. */
export function throwsWith(fn: () => unknown, ...fragments: string[]): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (err === null) throw new Error(`expected an error containing ${JSON.stringify(fragments)}, but nothing was thrown`);
  const msg = (err as Error).message;
  for (const f of fragments) {
    if (!msg.includes(f)) throw new Error(`error message ${JSON.stringify(msg)} does not contain ${JSON.stringify(f)}`);
  }
}

/** fn() with the named backend current (the previous one restored after). */
export function onBackend<T>(name: string, fn: () => T): T {
  const prev = nb.backend.getBackend().name;
  nb.backend.setBackend(name);
  try {
    return fn();
  } finally {
    nb.backend.setBackend(prev);
  }
}

/** fn(name) with each registered backend current in turn. */
export function onEveryBackend(fn: (backend: string) => void): void {
  for (const b of nb.backend.listBackends()) onBackend(b, () => fn(b));
}

/**
 * Register the wasm backends when their modules were built (npm run build:wasm): "wasm" as it loads by
 * default (the threaded module, one thread per core) and "wasm-1thread", the one-thread module with the
 * arrays its kernels write in full (kernel_list.h's `!`) poisoned before each call, so that an element a
 * kernel leaves unwritten shows up as NaN. Returns false, or why they are not registered (a test's skip).
 */
export async function registerWasmBackends(): Promise<string | false> {
  if (!existsSync(join(ROOT, "wasm", "nabla.wasm"))) return "wasm/nabla.wasm was not built (npm run build:wasm: no clang for wasm32)";
  if (process.env.NABLA_BACKEND === "js") return "NABLA_BACKEND=js";
  if (!nb.backend.listBackends().includes("wasm")) await nb.backend.loadWasm();
  if (!nb.backend.listBackends().includes("wasm-1thread")) {
    const module = new WebAssembly.Module(new Uint8Array(readFileSync(join(ROOT, "wasm", "nabla.wasm"))));
    nb.backend.registerBackend({ ...wasmBackendFromModule(module, {}, {}, { poison: true }), name: "wasm-1thread" });
  }
  return false;
}
