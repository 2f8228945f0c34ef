// In-place updates (PyTorch's trailing-underscore methods: add_, mul_, zero_, copy_, clamp_, …).
//
// The value is computed out of place without recording, then written into the tensor's storage, and the
// storage's version is bumped (autograd/engine.ts): a backward pass that needs the old values fails with
// a message instead of computing a wrong gradient. While gradients are recorded, a tensor that requires
// grad cannot be changed in place (a leaf, as in PyTorch; a recorded result, which nabla does not
// rewrite into the graph), and neither can a tensor be updated from one that requires grad.

import { Tensor } from "../tensor/tensor.js";
import { bumpVersion, isGradEnabled, noGrad } from "../autograd/engine.js";
import { shapeEq } from "../tensor/shape.js";
import { gradFnLabel } from "./format.js";

export function inplace(t: Tensor, op: string, operands: readonly unknown[], compute: () => Tensor): Tensor {
  if (isGradEnabled()) {
    if (t.requiresGrad) {
      throw new Error(
        t.gradFn
          ? `${op}: the tensor was computed in the recorded graph (grad_fn=<${gradFnLabel(t.gradFn)}>) and cannot be changed in place; ` +
              `use the out-of-place ${op.slice(0, -1)}, or detach() it first`
          : `${op}: a leaf tensor that requires grad cannot be changed in place while gradients are recorded; ` +
              `do it inside nb.noGrad(() => ...), as under torch.no_grad()`,
      );
    }
    if (operands.some((o) => o instanceof Tensor && o.requiresGrad)) {
      throw new Error(`${op}: an operand requires grad, and an in-place update is not recorded; use the out-of-place ${op.slice(0, -1)}`);
    }
  }
  const r = noGrad(compute);
  if (!shapeEq(r.shape, t.shape)) {
    throw new RangeError(
      `${op}: the result has shape [${r.shape.join(", ")}], which cannot be written in place into a tensor of shape [${t.shape.join(", ")}]`,
    );
  }
  if (t.dtype === "int32" && r.dtype !== "int32") {
    throw new TypeError(
      `${op}: the result is ${r.dtype} and cannot be written in place into an int32 tensor (PyTorch: "result type Float can't be cast")`,
    );
  }
  t.data.set(r.data);
  bumpVersion(t);
  return t;
}
