// nb.nn: Module, layers, initialization, losses and their functional forms.
export * as functional from "./functional.js";
export * as init from "./init.js";
export { Module, Parameter, type StateDict } from "./module.js";
export { Linear, Identity, Flatten, type LinearOptions } from "./layers/linear.js";
export { Conv2d, type Conv2dLayerOptions } from "./layers/conv.js";
export { BatchNorm1d, BatchNorm2d, type BatchNormLayerOptions } from "./layers/batchnorm.js";
export {
  ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Dropout, LocalResponseNorm,
} from "./layers/simple.js";
export { Sequential, ModuleList } from "./layers/container.js";
export {
  L1Loss, MSELoss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MultiLabelSoftMarginLoss,
} from "../losses/modules.js";
export * as utils from "./utils.js";
