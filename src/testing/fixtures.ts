// Loading JSON fixtures written by scripts/fixtures/*.py into tensors.

import { requireNode } from "../platform.js";
import { Tensor } from "../tensor/tensor.js";
import { tensor } from "../ops/creation.js";
import type { DType } from "../tensor/dtype.js";
import { surplus } from "../surplus.js";

/** A tensor as the fixture scripts encode it. */
export interface EncodedTensor {
  shape: number[];
  dtype: DType;
  data: number[];
}

export function decodeTensor(e: EncodedTensor, opts: { requiresGrad?: boolean; dtype?: DType } = {}): Tensor {
  if (arguments.length > 2) surplus(arguments, "decodeTensor(e, opts)");
  return tensor(e.data, { shape: e.shape, dtype: opts.dtype ?? e.dtype, requiresGrad: opts.requiresGrad });
}

/** Read and parse a JSON fixture, with an error naming the file when it is missing or malformed. */
export function loadJsonFixture<T = unknown>(path: string): T {
  if (arguments.length > 1) surplus(arguments, "loadJsonFixture(path)");
  let text: string;
  try {
    text = requireNode("node:fs", "reading a fixture").readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`fixture ${path} could not be read (${(e as Error).message}); regenerate it with scripts/fixtures/`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`fixture ${path} is not valid JSON: ${(e as Error).message}`);
  }
}
