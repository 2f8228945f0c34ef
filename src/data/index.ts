// nb.data: datasets, the DataLoader, transforms and readers.
export { Dataset, TensorDataset, ImageDataset, Subset, defaultCollate, channelStats, type Sample, type Transform, type Standardize } from "./dataset.js";
export { DataLoader, type DataLoaderOptions } from "./dataloader.js";
export * as transforms from "./transforms.js";
export { readIdx, parseIdx, readMnistPair, readCifar10, DataFormatError, type IdxArray, type ImageSet } from "./readers.js";
export { fashionMnist, mnistFormat, cifar10, defaultFashionMnistDir, DEBIAN_FASHION_MNIST, SHIPPED_FASHION_MNIST, FASHION_MNIST_CLASSES } from "./datasets.js";
