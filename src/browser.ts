// nabla's entry point for browsers (package.json's "browser" condition, which bundlers such as esbuild and
// Vite follow): the js backend, and the wasm backend once `await nb.backend.loadWasm()` has fetched the
// module. Nothing here looks for Node (no addon loader, no file loader, no environment variables); the
// public API is api.ts, the same as under Node.

import { registerBackend } from "./backend/backend.js";
import { jsBackend } from "./backend/js/index.js";

registerBackend({ ...jsBackend, info: { native: "not in the browser build (the wasm backend: await nb.backend.loadWasm())" } });

export * from "./api.js";
