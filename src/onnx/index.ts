// nb.onnx: export a model as an ONNX graph (onnxruntime, onnxruntime-web, Triton, … run it).

import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";
import { writeFileAtomic } from "../io/safetensors.js";
import { exportModel, type ExportOptions } from "./export.js";
import { surplus } from "../surplus.js";

export { ExportError, type ExportOptions } from "./export.js";
export { exportModel as export };

/** `nb.onnx.export(model, exampleInput, opts)` written to `path` (atomically: a crash leaves any previous file intact). */
export function exportFile(model: Module, exampleInput: Tensor, path: string, opts: ExportOptions = {}): void {
  if (arguments.length > 4) surplus(arguments, "exportFile(model, exampleInput, path, opts)");
  if (typeof path !== "string" || path === "") throw new TypeError("nb.onnx.exportFile: path must be a non-empty string");
  writeFileAtomic(path, exportModel(model, exampleInput, opts));
}
