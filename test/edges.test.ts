// Edge arguments get PyTorch's behaviour or an error naming the argument (issue: hardening, item 7).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { onEveryBackend, ROOT } from "./helpers.js";

test("chunk(x, 0), divisorOverride 0, linspace with negative steps and randperm(-3) are RangeErrors naming the argument", () => {
  assert.throws(() => nb.chunk(nb.arange(0, 4), 0), /chunk: chunks must be a positive integer, got 0/);
  assert.throws(
    () => nb.nn.functional.avgPool2d(nb.ones([1, 1, 2, 2]), 2, { divisorOverride: 0 }),
    /avgPool2d: divisorOverride must be a non-zero integer, got 0/,
  );
  assert.throws(() => nb.linspace(0, 1, -5), /linspace: number of steps must be a non-negative integer, got -5/);
  assert.throws(() => nb.randperm(-3), /randperm: n must be a non-negative integer, got -3/);
  assert.equal(nb.linspace(0, 1, 0).numel(), 0);
});

test("clamp with min > max gives max everywhere, as torch.clamp (min(max(x, lo), hi)), on every backend", () => {
  onEveryBackend(() => {
    assert.deepEqual(nb.clamp(nb.tensor([-2, 0, 2]), 1, -1).toArray(), [-1, -1, -1]);
    assert.ok(Number.isNaN(nb.clamp(nb.tensor([Number.NaN]), 0, 1).item()));
  });
});

test("an optimizer given a model instead of its parameters, and a state dict with an Object.prototype name, get clear errors", () => {
  const lin = new nb.nn.Linear(2, 2);
  assert.throws(
    () => new nb.optim.SGD(lin as unknown as nb.Tensor[], { lr: 0.1 }),
    /SGD: params must be an iterable of Tensors or of parameter-group objects, got Linear \(pass model.parameters\(\)\)/,
  );
  const sd = { ...lin.stateDict(), toString: nb.zeros([1]) };
  assert.throws(() => lin.loadStateDict(sd), /Unexpected key\(s\) in state_dict: "toString"/);
});

test(
  "NABLA_NUM_THREADS out of range or not a number is reported and replaced",
  { skip: nb.backend.getBackend().name !== "native" && "needs the native backend" },
  () => {
    const run = (v: string) =>
      spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import * as nb from ${JSON.stringify(join(ROOT, "dist", "index.js"))}; console.log(nb.backend.getBackend().info.threads)`,
        ],
        {
          env: { ...process.env, NABLA_NUM_THREADS: v, NABLA_BACKEND: "native" },
          encoding: "utf8",
        },
      );
    const big = run("5000");
    assert.equal(big.stdout.trim(), "256");
    assert.match(big.stderr, /NABLA_NUM_THREADS=5000 is more than 256; using 256/);
    const bad = run("lots");
    assert.match(bad.stderr, /NABLA_NUM_THREADS=lots is not a whole number of threads/);
    assert.equal(run("1").stdout.trim(), "1");
  },
);
