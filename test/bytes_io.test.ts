// Readers and writers that take paths also take bytes (a page fetches them): MNIST-format pairs, CIFAR-10
// batches, IDX arrays and training checkpoints, with errors naming the bytes' role.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { ROOT } from "./helpers.js";

const SLICE = join(ROOT, "data", "fashion-mnist-slice");

test("readMnistPair takes the files' bytes, gzipped or inflated, and gives what it reads from the paths", () => {
  const img = join(SLICE, "t10k-images-idx3-ubyte.gz"),
    lab = join(SLICE, "t10k-labels-idx1-ubyte.gz");
  const fromPaths = nb.data.readMnistPair(img, lab);
  const gz = nb.data.readMnistPair(new Uint8Array(readFileSync(img)), new Uint8Array(readFileSync(lab)));
  const raw = nb.data.readMnistPair(
    new Uint8Array(gunzipSync(new Uint8Array(readFileSync(img)))),
    new Uint8Array(gunzipSync(new Uint8Array(readFileSync(lab)))),
  );
  for (const s of [gz, raw]) {
    assert.equal(s.count, fromPaths.count);
    assert.deepEqual(s.labels, fromPaths.labels);
    assert.deepEqual(s.images, fromPaths.images);
  }
  const labels = new Uint8Array(gunzipSync(new Uint8Array(readFileSync(lab))));
  labels[8 + 5] = 12;
  assert.throws(() => nb.data.readMnistPair(new Uint8Array(readFileSync(img)), labels), /<labels bytes>: label 12 at index 5 \(byte 13\)/);
  assert.throws(() => nb.data.parseIdx(labels.subarray(0, 6), "labels.idx", 1), /labels\.idx: truncated header/);
});

test("readCifar10 takes batches as bytes; a bad length names the batch", () => {
  const rec = 1 + 3072;
  const b = new Uint8Array(2 * rec);
  b[0] = 3;
  b[rec] = 7;
  b[1] = 200;
  const s = nb.data.readCifar10([b]);
  assert.deepEqual(Array.from(s.labels), [3, 7]);
  assert.equal(s.images[0], 200);
  assert.throws(() => nb.data.readCifar10([b, b.subarray(0, rec + 5)]), /<CIFAR-10 batch 1 bytes>: size 3078 is not a positive multiple/);
});

test("serializeCheckpoint gives saveCheckpoint's bytes; loadCheckpoint restores from bytes and names them in errors", () => {
  nb.manualSeed(0);
  const model = nb.models.convnet_bn();
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  opt.zeroGrad();
  nb.nn.functional.crossEntropy(model.forward(nb.randn([4, 1, 28, 28])), nb.tensor([1, 2, 3, 4], { dtype: "int32" })).backward();
  opt.step();
  const contents = { model, optimizer: opt, epoch: 3, extra: { note: "bytes" } };
  const dir = mkdtempSync(join(tmpdir(), "nabla-ckpt-"));
  try {
    const path = join(dir, "c.safetensors");
    nb.train.saveCheckpoint(path, contents);
    const bytes = nb.train.serializeCheckpoint(contents);
    assert.deepEqual(bytes, new Uint8Array(readFileSync(path)));
    nb.manualSeed(1);
    const model2 = nb.models.convnet_bn();
    const opt2 = new nb.optim.Adam(model2.parameters(), { lr: 1e-3 });
    const r = nb.train.loadCheckpoint(bytes, { model: model2, optimizer: opt2 });
    assert.equal(r.epoch, 3);
    assert.deepEqual(r.extra, { note: "bytes" });
    for (const [k, v] of Object.entries(model.stateDict())) assert.deepEqual(model2.stateDict()[k].data, v.data, k);
    const bad = bytes.slice();
    bad[bytes.length - 1] ^= 0xff; // still a valid safetensors file; then a wrong model
    assert.throws(
      () => nb.train.loadCheckpoint(bytes, { model: nb.models.lenet5() }),
      (e: Error) => e.message.startsWith("<bytes>") || /Missing key|Unexpected key/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
