// Named datasets: Fashion-MNIST / MNIST (IDX) and CIFAR-10 (binary), from a folder, the Debian package,
// or the slice of Fashion-MNIST shipped with nabla.

import { nodeModule, requireNode } from "../platform.js";
import { readCifar10, readMnistPair, DataFormatError } from "./readers.js";
import { ImageDataset, type Transform } from "./dataset.js";
import { surplus } from "../surplus.js";

/** Where the Debian package dataset-fashion-mnist installs the full dataset. */
export const DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";
/** The compact real slice shipped in the package (see data/fashion-mnist-slice/README.md). */
export const SHIPPED_FASHION_MNIST = ((path, url) =>
  path && url ? path.join(path.dirname(url.fileURLToPath(import.meta.url)), "..", "..", "data", "fashion-mnist-slice") : "data/fashion-mnist-slice")(
  nodeModule("node:path"),
  nodeModule("node:url"),
);

const join = (...parts: string[]) => requireNode("node:path", "a dataset folder").join(...parts);
const existsSync = (p: string) => requireNode("node:fs", "a dataset folder").existsSync(p);

export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

function findFile(dir: string, base: string): string {
  for (const name of [base, `${base}.gz`]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  throw new DataFormatError(join(dir, base), "not found (looked for it with and without .gz)");
}

/** The default location of Fashion-MNIST: the Debian package when installed, else the shipped slice. */
export function defaultFashionMnistDir(): string {
  if (arguments.length > 0) surplus(arguments, "defaultFashionMnistDir()");
  return existsSync(join(DEBIAN_FASHION_MNIST, "train-images-idx3-ubyte.gz")) ? DEBIAN_FASHION_MNIST : SHIPPED_FASHION_MNIST;
}

/** MNIST-format train or test split from `dir` (train-images-idx3-ubyte[.gz] and friends). */
export function mnistFormat(dir: string, split: "train" | "test", transform?: Transform): ImageDataset {
  if (arguments.length > 3) surplus(arguments, "mnistFormat(dir, split, transform)");
  const prefix = split === "train" ? "train" : "t10k";
  const set = readMnistPair(findFile(dir, `${prefix}-images-idx3-ubyte`), findFile(dir, `${prefix}-labels-idx1-ubyte`));
  return new ImageDataset(set, transform);
}

/** Fashion-MNIST (Zalando, MIT): 28×28 grey images of 10 clothing classes. */
export function fashionMnist(split: "train" | "test", opts: { dir?: string; transform?: Transform } = {}): ImageDataset {
  if (arguments.length > 2) surplus(arguments, "fashionMnist(split, opts)");
  return mnistFormat(opts.dir ?? defaultFashionMnistDir(), split, opts.transform);
}

/** CIFAR-10 binary version from `dir` (data_batch_1..5.bin, test_batch.bin). */
export function cifar10(dir: string, split: "train" | "test", transform?: Transform): ImageDataset {
  if (arguments.length > 3) surplus(arguments, "cifar10(dir, split, transform)");
  const files = split === "train" ? [1, 2, 3, 4, 5].map((i) => findFile(dir, `data_batch_${i}.bin`)) : [findFile(dir, "test_batch.bin")];
  return new ImageDataset(readCifar10(files), transform);
}
