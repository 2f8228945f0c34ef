// nb.autograd: grad, grad-mode switches, and the functional helpers (hessian, hvp, vjp, jacobian).

export { grad, type GradOptions } from "./functional.js";
export { noGrad, enableGrad, isGradEnabled, Node, type BackwardOptions } from "./engine.js";
export * as functional from "./functional_api.js";
