// nb.nn.functional: the functional forms of layers and losses, as torch.nn.functional names them (camelCase).
export { conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, dropout, pad, softmax, logSoftmax } from "../ops/nnops.js";
export type { Conv2dOptions, MaxPool2dOptions, AvgPool2dOptions } from "../ops/nnops.js";
export { relu, sigmoid, tanh, softplus, logSigmoid } from "../ops/basic.js";
export { linear, batchNorm, leakyRelu, localResponseNorm, type BatchNormOptions, type LocalResponseNormOptions } from "./functional-layers.js";
export {
  l1Loss, mseLoss, smoothL1Loss, huberLoss, crossEntropy, nllLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits,
  multilabelSoftMarginLoss, type Reduction, type ReductionOptions, type NllOptions, type CrossEntropyOptions,
  type BceOptions, type BceLogitsOptions,
} from "../losses/functional.js";
