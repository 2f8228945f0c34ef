// nb.nn.functional: the functional forms of layers and losses, as torch.nn.functional names them (camelCase).
export { conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, pad } from "../ops/conv_pool.js";
export type { Conv2dOptions, MaxPool2dOptions, AvgPool2dOptions } from "../ops/conv_pool.js";
export { dropout, softmax, logSoftmax, leakyRelu } from "../ops/activation.js";
export { relu, sigmoid, tanh, softplus, logSigmoid, linear } from "../ops/math.js";
export { batchNorm, localResponseNorm, type BatchNormOptions, type LocalResponseNormOptions } from "../ops/normalization.js";
export {
  l1Loss,
  mseLoss,
  smoothL1Loss,
  huberLoss,
  crossEntropy,
  nllLoss,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  multilabelSoftMarginLoss,
  type Reduction,
  type ReductionOptions,
  type NllOptions,
  type CrossEntropyOptions,
  type BceOptions,
  type BceLogitsOptions,
} from "../ops/losses.js";
