// The public API (`import * as nb from "nabla"`), shared by the package's two entries: index.ts (Node: the
// addon, the wasm module from its file, NABLA_* environment variables) and browser.ts (the js backend, and
// the wasm backend once loadWasm is awaited).

export { Tensor } from "./tensor/tensor.js";
export type { DType, TypedArray } from "./tensor/dtype.js";
export { Generator, manualSeed, defaultGenerator } from "./tensor/random.js";
export * from "./ops/index.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/engine.js";
export * as autograd from "./autograd/index.js";
export * as nn from "./nn/index.js";
export * as testing from "./testing/index.js";
export { backend } from "./backend/index.js";
export * as io from "./io/index.js";
export * as optim from "./optim/index.js";
export * as models from "./models/index.js";
export * as onnx from "./onnx/index.js";
export { summary } from "./nn/summary.js";
export * as data from "./data/index.js";
export * as train from "./train/index.js";
