// nabla's entry point under Node (package.json's "node" and default conditions): registers the js backend,
// the native addon when it was built and the wasm module's loader, reads the NABLA_* environment variables,
// and exports the public API (api.ts). Bundlers for a browser take browser.ts instead.

import { registerBackend, registerBackendLoader, setBackend } from "./backend/backend.js";
import { jsBackend } from "./backend/js/index.js";
import { loadNativeBackend } from "./backend/native/index.js";
import { loadWasmFile } from "./backend/wasm/node.js";
import type { WasmOptions } from "./backend/wasm/index.js";
import { setFp32Precision } from "./backend/precision.js";
import { nodeModule } from "./platform.js";

// The js backend always; the native addon when it was built. NABLA_BACKEND=js|native|wasm forces a choice.
// Falling back to js is silent: `backend.getBackend().info.native` says why the addon is not in use. The wasm
// backend (wasm/nabla.wasm) loads when setBackend("wasm") or NABLA_BACKEND=wasm first asks for it.
{
  // the environment where there is one (a browser bundle has no `process`)
  const env: Record<string, string | undefined> = typeof process === "undefined" ? {} : process.env;
  const wanted = env.NABLA_BACKEND;
  if (wanted !== undefined && wanted !== "" && wanted !== "js" && wanted !== "native" && wanted !== "wasm") {
    throw new Error(`nabla: NABLA_BACKEND must be 'js', 'native' or 'wasm', got '${wanted}'`);
  }
  const loadWasm = (options: WasmOptions = {}) => {
    const r = loadWasmFile(options);
    if ("error" in r) throw new Error(`nabla: the wasm backend could not be loaded: ${r.error}`);
    return r.backend;
  };
  // under Node the package's module loads from its file when setBackend("wasm") or loadWasm() first asks
  // for it; elsewhere loadWasm(url) loads it
  if (nodeModule("node:fs") !== null) registerBackendLoader("wasm", (options) => loadWasm(options as WasmOptions));
  const native = wanted === "js" || wanted === "wasm" ? { error: `not loaded: NABLA_BACKEND=${wanted}` } : loadNativeBackend();
  if ("backend" in native) {
    registerBackend(jsBackend);
    registerBackend(native.backend);
    setBackend("native");
  } else if (wanted === "native") {
    throw new Error(`nabla: NABLA_BACKEND=native but the native addon could not be loaded (${native.error}); run npm install to build it`);
  } else {
    registerBackend({ ...jsBackend, info: { native: native.error } });
  }
  if (wanted === "wasm") setBackend("wasm");
  // NABLA_FP32_PRECISION=ieee|fast: the initial nb.backend.fp32Precision
  const precision = env.NABLA_FP32_PRECISION;
  if (precision !== undefined && precision !== "") {
    if (precision !== "ieee" && precision !== "fast")
      throw new Error(`nabla: NABLA_FP32_PRECISION must be 'ieee' or 'fast', got '${precision}'`);
    setFp32Precision(precision);
  }
}

export * from "./api.js";
