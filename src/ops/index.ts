// Every public op, re-exported: creation, math, reductions, movement, indexing and the nn composites.

export * from "./creation.js";
export * from "./math.js";
export { variance as var } from "./math.js";
export * from "./movement.js";
export * from "./activation.js";
export * from "./conv_pool.js";
export { format } from "./format.js";
