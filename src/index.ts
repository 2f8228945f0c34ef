// nabla's entry point: registers the js backend and exports the public API (`import * as nb from "nabla"`).

import { registerBackend, setBackend } from "./backend/backend.js";
import { jsBackend } from "./backend/js/index.js";
import { loadNativeBackend } from "./backend/native/index.js";

// The js backend always; the native addon when it was built. NABLA_BACKEND=js|native forces a choice.
registerBackend(jsBackend);
{
  const wanted = process.env.NABLA_BACKEND;
  if (wanted !== undefined && wanted !== "js" && wanted !== "native") {
    throw new Error(`nabla: NABLA_BACKEND must be 'js' or 'native', got '${wanted}'`);
  }
  if (wanted !== "js") {
    const native = loadNativeBackend();
    if ("backend" in native) {
      registerBackend(native.backend);
      setBackend("native");
    } else if (wanted === "native") {
      throw new Error(
        `nabla: NABLA_BACKEND=native but the native addon could not be loaded (${native.error}); run npm install to build it`,
      );
    } else {
      process.stderr.write(`nabla: native kernels unavailable (${native.error}); using the js backend\n`);
    }
  }
}

export { Tensor } from "./tensor/tensor.js";
export type { DType, TypedArray } from "./tensor/dtype.js";
export { Generator, manualSeed, defaultGenerator } from "./tensor/random.js";
export * from "./ops/index.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/engine.js";
export * as autograd from "./autograd/index.js";
export * as nn from "./nn/index.js";
export * as testing from "./testing/index.js";
export * as backend from "./backend/index.js";
export * as io from "./io/index.js";
export * as optim from "./optim/index.js";
export * as models from "./models/index.js";
export { summary } from "./nn/summary.js";
export * as data from "./data/index.js";
export * as train from "./train/index.js";
