// nb.autograd.functional, mirroring torch.autograd.functional.
export { hessian, hvp, vjp, jacobian } from "./functional.js";
