// Loading the package's wasm module under Node: wasm/nabla.wasm (npm run build:wasm, or shipped in the
// package), compiled and instantiated synchronously.

import { requireNode } from "../../platform.js";
import type { Backend } from "../backend.js";
import { packageRoot } from "../package_root.js";
import { wasmBackendFromModule } from "./index.js";

/** The wasm backend from the package's module, or the reason it is unavailable. */
export function loadWasmFile(): { backend: Backend } | { error: string } {
  const { existsSync, readFileSync } = requireNode("node:fs", "loading wasm/nabla.wasm from a file");
  const file = requireNode("node:path", "loading wasm/nabla.wasm from a file").join(packageRoot(), "wasm", "nabla.wasm");
  if (!existsSync(file)) return { error: `${file} was not built (npm run build:wasm needs clang with wasm32 support)` };
  try {
    return { backend: wasmBackendFromModule(new WebAssembly.Module(new Uint8Array(readFileSync(file))), { module: file }) };
  } catch (e) {
    return { error: `${file}: ${(e as Error).message}` };
  }
}
