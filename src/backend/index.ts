// nb.backend: the kernel interface and the registry, for plugging in faster backends.
export { registerBackend, setBackend, getBackend, listBackends } from "./backend.js";
export type { Backend, UnaryOp, BinaryOp, ReduceOp, ArgReduceOp, Im2colGeometry } from "./backend.js";
export { jsBackend } from "./js/index.js";
