// nb.nn.functional: the functional forms of layers, as torch.nn.functional names them (camelCase).
export { conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, dropout, pad, softmax, logSoftmax } from "../ops/nnops.js";
export type { Conv2dOptions, MaxPool2dOptions, AvgPool2dOptions } from "../ops/nnops.js";
export { relu, sigmoid, tanh, softplus } from "../ops/basic.js";
