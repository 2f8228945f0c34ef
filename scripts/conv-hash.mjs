#!/usr/bin/env node
// A SHA-256 of the three convolution passes (output, input gradient, weight gradient) on ResNet-18's
// layer shapes, odd sizes and a 5×5 layer, seeded: run it against two builds to show that a kernel change
// left their float32 bits alone (`node scripts/conv-hash.mjs [path to a build's dist/index.js]`; set
// NABLA_FP32_PRECISION=fast to hash the "fast" precision instead).
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const entry = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");
const nb = await import(pathToFileURL(entry).href);
nb.manualSeed(1);
const h = createHash("sha256");
const shapes = [
  [8, 3, 32, 32, 64, 3, 1, 1],
  [16, 64, 32, 32, 64, 3, 1, 1],
  [16, 64, 32, 32, 128, 3, 2, 1],
  [16, 128, 16, 16, 128, 3, 1, 1],
  [16, 128, 16, 16, 256, 3, 2, 1],
  [16, 256, 8, 8, 256, 3, 1, 1],
  [16, 256, 8, 8, 512, 3, 2, 1],
  [16, 512, 4, 4, 512, 3, 1, 1],
  [4, 36, 13, 15, 40, 3, 1, 1],
  [3, 20, 7, 9, 24, 3, 1, 2],
  [2, 6, 12, 12, 16, 5, 1, 2],
];
let total = 0;
for (const [n, c, hh, ww, co, k, s, p] of shapes) {
  const x = nb.randn([n, c, hh, ww]).requiresGrad_(true),
    w = nb.randn([co, c, k, k]).mul(0.1).requiresGrad_(true);
  const y = nb.nn.functional.conv2d(x, w, null, s, p);
  y.mul(nb.randn(y.shape)).sum().backward();
  for (const t of [y, x.grad, w.grad]) {
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    total += t.data.length;
  }
}
console.log(`${nb.backend.getBackend().name}, fp32Precision ${nb.backend.fp32Precision}: ${total} values, sha256 ${h.digest("hex")}`);
