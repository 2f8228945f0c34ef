// nb.backend: the kernel interface and the registry, for plugging in faster backends; the float32
// precision setting. An object rather than a module namespace so that, as in PyTorch
// (`torch.backends.fp32_precision = "tf32"`), the precision is set by assignment:
//   nb.backend.fp32Precision = "fast";        // every op that has a faster float32 algorithm
//   nb.backend.conv.fp32Precision = "ieee";   // convolutions only ("none": follow the global setting)
// NABLA_FP32_PRECISION=fast sets the global value when nabla loads.

import { registerBackend, setBackend, getBackend, listBackends } from "./backend.js";
import type * as kernels from "./backend.js";
import { jsBackend } from "./js/index.js";
import { loadWasm } from "./wasm/index.js";
import * as precision from "./precision.js";

/** The per-op-type precision overrides (PyTorch: `torch.backends.cudnn.conv.fp32_precision`). */
const conv = Object.defineProperty({} as { fp32Precision: precision.OpFp32Precision }, "fp32Precision", {
  get: precision.getConvFp32Precision,
  set: precision.setConvFp32Precision,
  enumerable: true,
});

export const backend = Object.defineProperty(
  {
    registerBackend,
    setBackend,
    getBackend,
    listBackends,
    jsBackend,
    loadWasm,
    convAlgorithms: precision.convAlgorithms,
    conv: Object.seal(conv),
  } as {
    registerBackend: typeof registerBackend;
    setBackend: typeof setBackend;
    getBackend: typeof getBackend;
    listBackends: typeof listBackends;
    jsBackend: typeof jsBackend;
    /** Load the WebAssembly backend ("wasm") from the package's module or the source given ({ threads } where shared memory allows); returns it. */
    loadWasm: typeof loadWasm;
    /** Run a function and list the algorithm each convolution kernel call took. */
    convAlgorithms: typeof precision.convAlgorithms;
    readonly conv: { fp32Precision: precision.OpFp32Precision };
    /** "ieee" (default: exact float32, as PyTorch) or "fast" (faster algorithms within a documented error bound). */
    fp32Precision: precision.Fp32Precision;
  },
  "fp32Precision",
  { get: precision.getFp32Precision, set: precision.setFp32Precision, enumerable: true },
);
Object.seal(backend);

// the types, under the same name (nb.backend.Backend …)
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace backend {
  export type Backend = kernels.Backend;
  export type UnaryOp = kernels.UnaryOp;
  export type BinaryOp = kernels.BinaryOp;
  export type ReduceOp = kernels.ReduceOp;
  export type ArgReduceOp = kernels.ArgReduceOp;
  export type Im2colGeometry = kernels.Im2colGeometry;
  export type ConvGeometry = kernels.ConvGeometry;
  export type Fp32Precision = precision.Fp32Precision;
  export type OpFp32Precision = precision.OpFp32Precision;
  export type ConvAlgorithm = precision.ConvAlgorithm;
  export type ConvAlgorithmRecord = precision.ConvAlgorithmRecord;
  export type WasmSource = import("./wasm/index.js").WasmSource;
  export type WasmOptions = import("./wasm/index.js").WasmOptions;
}
