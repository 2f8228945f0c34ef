// Every public op, re-exported: creation, math, reductions, movement, indexing and the nn composites.

export * from "./creation.js";
export * from "./basic.js";
export { variance as var } from "./basic.js";
export * from "./nnops.js";
export { format } from "./format.js";
