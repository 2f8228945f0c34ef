// nb.optim: optimizers from gradient descent to L-BFGS, schedules, line search, minimize, test functions.
export { Optimizer, type ParamGroup, type ParamGroupInput, type ParamsInput, type Closure, type OptimizerStateDict } from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adagrad, type AdagradOptions } from "./adagrad.js";
export { Adadelta, type AdadeltaOptions } from "./adadelta.js";
export { RMSprop, type RMSpropOptions } from "./rmsprop.js";
export { Adam, AdamW, type AdamOptions } from "./adam.js";
export { NAdam, type NAdamOptions } from "./nadam.js";
export { Adamax, type AdamaxOptions } from "./adamax.js";
export { LBFGS, type LBFGSOptions } from "./lbfgs.js";
export { strongWolfe, cubicInterpolate, type WolfeOptions, type DirectionalObjective } from "./linesearch.js";
export { minimize, type MinimizeMethod, type MinimizeOptions, type OptimizeResult } from "./minimize.js";
export * as lrScheduler from "./lr_scheduler.js";
export * as testFunctions from "../testing/test_functions.js"; // the optimization test problems (also nb.testing.testFunctions)
