// Data: IDX and CIFAR-10 readers (valid, corrupt and truncated files), DataLoader regimes and shuffling,
// transforms, and the shipped Fashion-MNIST slice.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { ROOT, throwsWith } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "nabla-data-"));
function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const gz = (b: Uint8Array): Uint8Array => new Uint8Array(gzipSync(b));
function idxBytes(dims: number[], data: number[] | Uint8Array, magicType = 0x08): Uint8Array {
  const h = new Uint8Array(4 + 4 * dims.length);
  h[2] = magicType;
  h[3] = dims.length;
  const dv = new DataView(h.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return concat([h, data]);
}
function put(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

test("IDX: plain and gzipped files read back exactly", () => {
  const pixels = Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 256);
  const plain = put("img", idxBytes([2, 3, 4], pixels));
  const gzPath = put("img.gz", gz(idxBytes([2, 3, 4], pixels)));
  for (const f of [plain, gzPath]) {
    const r = nb.data.readIdx(f, 3);
    assert.deepEqual(r.shape, [2, 3, 4]);
    assert.deepEqual([...r.data], pixels);
  }
  const lab = put("lab", idxBytes([2], [3, 9]));
  const set = nb.data.readMnistPair(plain, lab);
  assert.equal(set.count, 2);
  assert.deepEqual([...set.labels], [3, 9]);
});

test("IDX: corrupt and truncated files are rejected naming the file and the byte", () => {
  const good = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
  throwsWith(() => nb.data.readIdx(put("short", good.subarray(0, 3))), "short: truncated: 3 bytes");
  const badMagic = good.slice();
  badMagic[0] = 0x12;
  throwsWith(() => nb.data.readIdx(put("magic", badMagic)), "magic: bad magic number 0x12000803 at byte 0");
  throwsWith(() => nb.data.readIdx(put("type", idxBytes([2], [1, 2], 0x0d))), "type: unsupported IDX element type 0xd at byte 2");
  throwsWith(() => nb.data.readIdx(put("hdr", good.subarray(0, 10))), "hdr: truncated header", "end at byte 16");
  throwsWith(
    () => nb.data.readIdx(put("data", good.subarray(0, 20))),
    "data: truncated: dimensions [2, 2, 2] need 8 data bytes from byte 16, file has 4",
  );
  throwsWith(() => nb.data.readIdx(put("trail", concat([good, [0]]))), "trail: 1 unexpected trailing bytes after byte 24");
  throwsWith(() => nb.data.readIdx(put("dims", good), 1), "dims: IDX file has 3 dimensions (byte 3), expected 1");
  const zipped = gz(good);
  throwsWith(() => nb.data.readIdx(put("cut.gz", zipped.subarray(0, zipped.length - 6))), "cut.gz: corrupt or truncated gzip data");
  throwsWith(() => nb.data.readIdx(join(dir, "missing")), "missing: cannot read (ENOENT)");
  const img = put("i3", idxBytes([2, 1, 1], [0, 0]));
  throwsWith(() => nb.data.readMnistPair(img, put("l3", idxBytes([3], [0, 1, 2]))), "l3: 3 labels for 2 images");
  throwsWith(() => nb.data.readMnistPair(img, put("l10", idxBytes([2], [1, 10]))), "l10: label 10 at index 1 (byte 9) is not below 10");
});

test("CIFAR-10 binary: records, labels, truncation", () => {
  const rec = (label: number, fill: number) => concat([[label], new Uint8Array(3072).fill(fill)]);
  const f = put("data_batch_1.bin", concat([rec(3, 7), rec(9, 200)]));
  const s = nb.data.readCifar10([f]);
  assert.equal(s.count, 2);
  assert.deepEqual([...s.labels], [3, 9]);
  assert.equal(s.images[3072 + 5], 200);
  throwsWith(
    () => nb.data.readCifar10([put("trunc.bin", concat([rec(1, 0), rec(2, 0)]).subarray(0, 5000))]),
    "trunc.bin: size 5000 is not a positive multiple of the 3073-byte CIFAR-10 record (truncated at record 1, byte 3073)",
  );
  throwsWith(
    () => nb.data.readCifar10([put("lab.bin", concat([rec(1, 0), rec(12, 0)]))]),
    "lab.bin: label 12 of record 1 (byte 3073) is not below 10",
  );
});

test("DataLoader: batch, stochastic and mini-batch regimes give m/b steps per epoch", () => {
  const ds = new nb.data.TensorDataset(nb.arange(10).float().reshape(10, 1), nb.arange(10));
  const count = (o: nb.data.DataLoaderOptions) => [...new nb.data.DataLoader(ds, o)].length;
  assert.equal(count({ batchSize: 10 }), 1); // batch gradient descent
  assert.equal(count({ batchSize: Infinity }), 1);
  assert.equal(count({ batchSize: 1, shuffle: true }), 10); // stochastic
  assert.equal(count({ batchSize: 4 }), 3); // mini-batches 4, 4, 2
  assert.equal(count({ batchSize: 4, dropLast: true }), 2);
  const sizes = [...new nb.data.DataLoader(ds, { batchSize: 4 })].map((b) => b.x.shape[0]);
  assert.deepEqual(sizes, [4, 4, 2]);
});

test("DataLoader: reshuffles every epoch, each epoch a permutation, reproducible from the seed", async () => {
  const ds = new nb.data.TensorDataset(nb.arange(20).float().reshape(20, 1), nb.arange(20));
  const epochOrder = (l: nb.data.DataLoader) => [...l].flatMap((b) => Array.from(b.y.data));
  const l1 = new nb.data.DataLoader(ds, { batchSize: 6, shuffle: true, generator: new nb.Generator(5) });
  const e1 = epochOrder(l1),
    e2 = epochOrder(l1);
  assert.deepEqual(
    [...e1].sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.deepEqual(
    [...e2].sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.notDeepEqual(e1, e2);
  const l2 = new nb.data.DataLoader(ds, { batchSize: 6, shuffle: true, generator: new nb.Generator(5) });
  assert.deepEqual(epochOrder(l2), e1);
  const asyncOrder: number[] = [];
  for await (const b of new nb.data.DataLoader(ds, { batchSize: 6, shuffle: true, generator: new nb.Generator(5) }))
    asyncOrder.push(...b.y.data);
  assert.deepEqual(asyncOrder, e1);
  const custom = new nb.data.DataLoader(ds, {
    batchSize: 5,
    collate: (s) => ({ x: nb.stack(s.map((e) => e.x)), y: nb.stack(s.map((e) => e.y)).mul(2) }),
  });
  assert.deepEqual(Array.from([...custom][0].y.data), [0, 2, 4, 6, 8]);
});

test("transforms: normalize, randomCrop with padding, randomHorizontalFlip, compose", () => {
  const T = nb.data.transforms;
  const img = nb.tensor([
    [
      [1, 2],
      [3, 4],
    ],
    [
      [5, 6],
      [7, 8],
    ],
  ]); // [2, 2, 2]
  assert.deepEqual(T.normalize([1, 5], [2, 0.5])(img).toArray(), [
    [
      [0, 0.5],
      [1, 1.5],
    ],
    [
      [0, 2],
      [4, 6],
    ],
  ]);
  const g = new nb.Generator(3);
  const crops = Array.from({ length: 50 }, () => T.randomCrop(2, { padding: 1 })(img, g));
  for (const c of crops) assert.deepEqual(c.shape, [2, 2, 2]);
  // every crop is a 2×2 window of the zero-padded 4×4 image: its non-zero pixels keep their relative layout
  const seen = new Set(crops.map((c) => JSON.stringify(c.toArray())));
  assert.ok(seen.size > 3 && seen.has(JSON.stringify(img.toArray())), "crops vary and include the centred one");
  const flip = T.randomHorizontalFlip(1)(img, g);
  assert.deepEqual(flip.toArray(), [
    [
      [2, 1],
      [4, 3],
    ],
    [
      [6, 5],
      [8, 7],
    ],
  ]);
  assert.equal(T.randomHorizontalFlip(0)(img, g), img);
  assert.deepEqual(T.compose([T.randomHorizontalFlip(1), T.normalize([0, 0], [1, 2])])(img, g).toArray(), [
    [
      [2, 1],
      [4, 3],
    ],
    [
      [3, 2.5],
      [4, 3.5],
    ],
  ]);
});

test("the shipped Fashion-MNIST slice: 4,000 + 1,000 real images, balanced classes", () => {
  const d = join(ROOT, "data", "fashion-mnist-slice");
  const train = nb.data.fashionMnist("train", { dir: d }),
    test = nb.data.fashionMnist("test", { dir: d });
  assert.equal(train.length, 4000);
  assert.equal(test.length, 1000);
  const counts = new Array(10).fill(0);
  for (const l of train.set.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(400));
  const { x, y } = train.get(0);
  assert.deepEqual(x.shape, [1, 28, 28]);
  assert.ok(Math.max(...x.data) <= 1 && Math.max(...x.data) > 0.5, "pixels scaled to [0, 1]");
  assert.equal(y.dtype, "int32");
});

test("gzip bombs: a .gz that inflates past what its IDX header promises stops there, naming the file", () => {
  // a 1-image header followed by 64 MB of zeros: ~64 KB of gzip
  const bomb = gz(concat([idxBytes([1, 28, 28], new Uint8Array(784)), new Uint8Array(64 << 20)]));
  assert.ok(bomb.length < 200_000);
  const p = put("bomb.gz", bomb);
  assert.throws(
    () => nb.data.readIdx(p, 3),
    new RegExp(`${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: gzip data inflates past the 800 bytes the format allows here`),
  );
  // CIFAR-10 has no header: the cap is the whole dataset in one file
  const cifarBomb = put("cifar-bomb.gz", gz(new Uint8Array(60001 * 3073)));
  assert.throws(() => nb.data.readCifar10([cifarBomb]), /cifar-bomb.gz: gzip data inflates past the 184380000 bytes/);
  // a gzipped file exactly as long as its header says still reads
  const fine = put("fine.gz", gz(idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])));
  assert.deepEqual([...nb.data.readIdx(fine, 3).data], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test("channelStats and standardize: an empty set, a constant channel and a bad mean / std are named errors, not NaN images", () => {
  const set = (images: number[], count: number, channels = 1) => ({
    images: Uint8Array.from(images),
    labels: new Uint8Array(count),
    count,
    channels,
    height: 1,
    width: 2,
  });
  assert.throws(() => nb.data.channelStats(set([], 0)), /channelStats: the image set is empty \(0 images of 1×1×2\)/);
  // channel 1 is 7 everywhere: its std is 0 and standardizing would divide by it
  assert.throws(
    () => nb.data.channelStats(set([0, 255, 7, 7, 10, 20, 7, 7], 2, 2)),
    /every pixel of channel 1 is 7 \(standard deviation 0\)/,
  );
  // closed form: channel 0 holds 0 and 255 → mean 0.5, std 0.5 (population, as the training set's statistics)
  const s = nb.data.channelStats(set([0, 255, 255, 0], 2));
  assert.deepEqual(s, { mean: [0.5], std: [0.5] });
  const ok = set([0, 255], 1);
  assert.throws(
    () => new nb.data.ImageDataset(ok, undefined, { mean: [0.5, 0.5], std: [1] }),
    /standardize\.mean must hold 1 finite numbers/,
  );
  assert.throws(
    () => new nb.data.ImageDataset(ok, undefined, { mean: [0.5], std: [0] }),
    /standardize\.std must hold 1 positive finite numbers/,
  );
  assert.throws(() => new nb.data.ImageDataset(ok, undefined, { mean: [NaN], std: [1] }), /standardize\.mean/);
});
