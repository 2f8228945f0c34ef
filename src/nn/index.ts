// nb.nn: Module, layers, initialization, losses and their functional forms.
export * as functional from "./functional.js";
export * as init from "./init.js";
export { Module, Parameter, type StateDict, type ForwardHook, type ForwardPreHook } from "./module.js";
export { Linear, Identity, Flatten, type LinearOptions } from "./layers/linear.js";
export { Conv2d, ZeroPad2d, type Conv2dLayerOptions } from "./layers/conv.js";
export { BatchNorm1d, BatchNorm2d, LocalResponseNorm, type BatchNormLayerOptions } from "./layers/normalization.js";
export { ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax } from "./layers/activation.js";
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from "./layers/pooling.js";
export { Dropout } from "./layers/dropout.js";
export { Sequential, ModuleList } from "./layers/container.js";
export {
  L1Loss,
  MSELoss,
  SmoothL1Loss,
  HuberLoss,
  CrossEntropyLoss,
  NLLLoss,
  BCELoss,
  BCEWithLogitsLoss,
  MultiLabelSoftMarginLoss,
} from "./layers/loss.js";
export * as utils from "./utils.js";
