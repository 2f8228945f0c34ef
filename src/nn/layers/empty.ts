// Uninitialized-by-contract storage for parameters (zero-filled; layers initialize it right away).
import { zeros } from "../../ops/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../tensor/dtype.js";
export const empty = (shape: number[], dtype: DType = "float32"): Tensor => zeros(shape, { dtype });
