// DataLoader numWorkers (issue 19, item 6): batches assembled in worker threads equal the ones made in
// the loop's thread, arrive in order, are reproducible with random transforms whichever worker makes
// them, and the cases workers cannot serve are errors that say why.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { throwsWith } from "./helpers.js";

const T = nb.data.transforms;

function images(count: number) {
  const g = new nb.Generator(3);
  const bytes = Uint8Array.from({ length: count * 3 * 8 * 8 }, () => g.randint(0, 256));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images: bytes, labels, count, channels: 3, height: 8, width: 8 };
}

async function collect(loader: nb.data.DataLoader): Promise<[number[][], number[][]]> {
  const xs: number[][] = [],
    ys: number[][] = [];
  for await (const { x, y } of loader) {
    xs.push(Array.from(x.data));
    ys.push(Array.from(y.data));
  }
  return [xs, ys];
}

test("TensorDataset: 2 workers give the batches of the loop's thread, in order, every epoch", async () => {
  const x = nb.randn([50, 4], { generator: new nb.Generator(1) });
  const y = nb.arange(50).reshape([50, 1]);
  const ds = new nb.data.TensorDataset(x, y);
  const plain = new nb.data.DataLoader(ds, { batchSize: 8, shuffle: true, generator: new nb.Generator(7) });
  const workers = new nb.data.DataLoader(ds, {
    batchSize: 8,
    shuffle: true,
    generator: new nb.Generator(7),
    numWorkers: 2,
    prefetchFactor: 1,
  });
  for (let epoch = 0; epoch < 2; epoch++) {
    const want: [number[][], number[][]] = [[], []];
    for (const b of plain) {
      want[0].push(Array.from(b.x.data));
      want[1].push(Array.from(b.y.data));
    }
    // the worker loader draws one extra number per epoch (its batch seeds): align the plain one after
    plain.generator.nextUint32();
    assert.deepEqual(await collect(workers), want);
  }
  await workers.close();
});

test("ImageDataset with random transforms: the same batches with 1 or 3 workers and across runs; labels follow", async () => {
  const set = images(40);
  const tf = T.compose([T.randomCrop(8, { padding: 2 }), T.randomHorizontalFlip(), T.normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])]);
  const ds = new nb.data.Subset(
    new nb.data.ImageDataset(set, tf),
    Int32Array.from({ length: 30 }, (_, i) => i + 5),
  );
  const run = async (numWorkers: number) => {
    const l = new nb.data.DataLoader(ds, { batchSize: 7, shuffle: true, generator: new nb.Generator(11), numWorkers });
    const r = await collect(l);
    await l.close();
    return r;
  };
  const a = await run(1),
    b = await run(3),
    c = await run(3);
  assert.deepEqual(a, b);
  assert.deepEqual(b, c);
  assert.equal(a[0].length, 5);
  // every label is the one of an image in the subset, each once per epoch
  assert.deepEqual(
    a[1].flat().sort((p, q) => p - q),
    Array.from({ length: 30 }, (_, i) => (i + 5) % 10).sort((p, q) => p - q),
  );
  // the crops really are random: not every batch equals the centred, unflipped image
  const plain = new nb.data.DataLoader(
    new nb.data.Subset(
      new nb.data.ImageDataset(set, T.normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])),
      Int32Array.from({ length: 30 }, (_, i) => i + 5),
    ),
    { batchSize: 30 },
  );
  const [[flat]] = await collect(plain);
  assert.notDeepEqual(a[0].flat().sort(), flat.sort());
});

test("a dataset built in the workers by a module (workerDataset)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-dlw-"));
  const mod = join(dir, "squares.mjs");
  writeFileSync(
    mod,
    `export function squares(n) {
       return { length: n, getBatch(idx) {
         return { x: { data: Float32Array.from(idx, (i) => i * i), shape: [idx.length] }, y: { data: Int32Array.from(idx), shape: [idx.length] } };
       } };
     }\n`,
  );
  const ds = {
    length: 10,
    get: () => assert.fail("not called in the main thread"),
    workerSpec: () => "none",
  } as unknown as nb.data.Dataset;
  const l = new nb.data.DataLoader(ds, { batchSize: 4, numWorkers: 2, workerDataset: { module: mod, export: "squares", args: [10] } });
  const [xs, ys] = await collect(l);
  assert.deepEqual(xs, [
    [0, 1, 4, 9],
    [16, 25, 36, 49],
    [64, 81],
  ]);
  assert.deepEqual(ys, [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9],
  ]);
  await l.close();
  const bad = new nb.data.DataLoader(ds, { batchSize: 4, numWorkers: 1, workerDataset: { module: mod, export: "nope" } });
  await assert.rejects(collect(bad), /has no function export 'nope'/);
  await bad.close();
});

test("what workers cannot do is an error naming the reason", () => {
  const set = images(4);
  const custom = new nb.data.ImageDataset(set, (x) => x.mul(2));
  throwsWith(() => new nb.data.DataLoader(custom, { numWorkers: 2 }), "numWorkers 2", "transform is not made from nb.data.transforms");
  const ds = new nb.data.ImageDataset(set);
  throwsWith(
    () => new nb.data.DataLoader(ds, { numWorkers: 1, collate: (s) => s[0] }),
    "a custom collate function cannot run in worker threads",
  );
  throwsWith(() => [...new nb.data.DataLoader(ds, { numWorkers: 1 })], "iterate with for await (const batch of loader)");
  throwsWith(() => new nb.data.DataLoader(ds, { numWorker: 1 } as never), 'unknown option "numWorker" (did you mean numWorkers?)');
  throwsWith(() => new nb.data.DataLoader(ds, { numWorkers: -1 }), "numWorkers should be an integer >= 0");
});

test("DataLoader takes PyTorch's positional order (dataset, batchSize, shuffle, { rest }) or an options object", () => {
  const ds = new nb.data.TensorDataset(nb.arange(10).reshape([10, 1]).float(), nb.arange(10));
  const a = [...new nb.data.DataLoader(ds, 4, true, { generator: new nb.Generator(5) })].map((b) => Array.from(b.y.data));
  const b = [...new nb.data.DataLoader(ds, { batchSize: 4, shuffle: true, generator: new nb.Generator(5) })].map((b) =>
    Array.from(b.y.data),
  );
  assert.deepEqual(a, b);
  assert.equal(a.length, 3);
  assert.notDeepEqual(
    a.flat(),
    Array.from({ length: 10 }, (_, i) => i),
  );
  throwsWith(() => new nb.data.DataLoader(ds, 4, "yes" as never), "DataLoader: shuffle must be a boolean");
  throwsWith(
    () => new nb.data.DataLoader(ds, 4, true, { batchSize: 8 } as never),
    "DataLoader: batchSize is given both positionally and in the options object",
  );
  throwsWith(() => new nb.data.DataLoader([1, 2] as never), "DataLoader: the first argument must be a Dataset");
});
