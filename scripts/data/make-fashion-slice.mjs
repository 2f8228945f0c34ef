// Write data/fashion-mnist-slice/: a class-balanced slice of real Fashion-MNIST (the first 400 training
// and 100 test images of each class, in file order) as gzipped IDX files, from the full dataset that
// Debian's dataset-fashion-mnist package installs. Run: npm run build && node scripts/data/make-fashion-slice.mjs [SRC_DIR]
import { writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as nb from "../../dist/index.js";

const src = process.argv[2] ?? nb.data.DEBIAN_FASHION_MNIST;
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "data", "fashion-mnist-slice");
mkdirSync(out, { recursive: true });

function idx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  // mtime 0 keeps the gzip bytes reproducible
  return gzipSync(Buffer.concat([header, Buffer.from(data)]), { level: 9 });
}

for (const [split, prefix, perClass] of [["train", "train", 400], ["test", "t10k", 100]]) {
  const set = nb.data.readMnistPair(join(src, `${prefix}-images-idx3-ubyte.gz`), join(src, `${prefix}-labels-idx1-ubyte.gz`));
  const taken = new Array(10).fill(0);
  const keep = [];
  for (let i = 0; i < set.count && keep.length < perClass * 10; i++) {
    if (taken[set.labels[i]] < perClass) { taken[set.labels[i]]++; keep.push(i); }
  }
  const images = new Uint8Array(keep.length * 784), labels = new Uint8Array(keep.length);
  keep.forEach((i, k) => { images.set(set.images.subarray(i * 784, (i + 1) * 784), k * 784); labels[k] = set.labels[i]; });
  writeFileSync(join(out, `${prefix}-images-idx3-ubyte.gz`), idx([keep.length, 28, 28], images));
  writeFileSync(join(out, `${prefix}-labels-idx1-ubyte.gz`), idx([keep.length], labels));
  console.log(`${split}: ${keep.length} images`);
}
