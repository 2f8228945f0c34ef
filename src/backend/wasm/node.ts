// Loading the package's wasm module under Node: wasm/nabla-threads.wasm when more than one thread is wanted
// (NABLA_NUM_THREADS, else the cores), else wasm/nabla.wasm (npm run build:wasm builds both, the package
// ships both), compiled and instantiated synchronously.

import { requireNode } from "../../platform.js";
import type { Backend } from "../backend.js";
import { packageRoot } from "../package_root.js";
import { wasmBackendFromModule, type WasmOptions } from "./index.js";
import { defaultThreads } from "./threads.js";

/** The wasm backend from the package's module, or the reason it is unavailable. */
export function loadWasmFile(options: WasmOptions = {}): { backend: Backend } | { error: string } {
  const { existsSync, readFileSync } = requireNode("node:fs", "loading wasm/nabla.wasm from a file");
  const threads = options.threads ?? defaultThreads();
  const file = requireNode("node:path", "loading wasm/nabla.wasm from a file").join(
    packageRoot(),
    "wasm",
    threads > 1 ? "nabla-threads.wasm" : "nabla.wasm",
  );
  if (!existsSync(file)) return { error: `${file} was not built (npm run build:wasm needs clang with wasm32 support)` };
  try {
    return { backend: wasmBackendFromModule(new WebAssembly.Module(new Uint8Array(readFileSync(file))), { module: file }, { threads }) };
  } catch (e) {
    return { error: `${file}: ${(e as Error).message}` };
  }
}
