// nabla's entry point: registers the js backend and exports the public API (`import * as nb from "nabla"`).

import { registerBackend } from "./backend/backend.js";
import { jsBackend } from "./backend/js/index.js";

registerBackend(jsBackend);

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
export { summary } from "./models/summary.js";
export * as data from "./data/index.js";
export * as train from "./train/index.js";
