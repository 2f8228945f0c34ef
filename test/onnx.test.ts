// nb.onnx.export against onnxruntime-node (a devDependency; the tests report themselves skipped without it):
// every zoo model, exported, runs in onnxruntime with nabla's eval outputs, at the example's batch and at
// another one with dynamicBatch; ops without an ONNX form are errors naming the op and the module.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { createHash } from "node:crypto";
import { exportZooCase, randomizeBatchNorm, zooCases } from "./zoo_cases.js";
import { fixturePath, ROOT } from "./helpers.js";
import { spawnSync } from "node:child_process";

type Ort = typeof import("onnxruntime-node");
let ort: Ort | null = null;
try {
  ort = await import("onnxruntime-node");
} catch {
  ort = null;
}
const skip = ort ? false : "onnxruntime-node is not installed (npm install --save-dev onnxruntime-node)";

async function runOrt(bytes: Uint8Array, x: nb.Tensor, input = "input", output = "output"): Promise<nb.Tensor> {
  const session = await ort!.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const r = await session.run({ [input]: new ort!.Tensor(x.dtype === "float64" ? "float64" : "float32", x.data as Float32Array, x.shape) });
  const y = r[output];
  return nb.tensor(Array.from(y.data as Float32Array), { dtype: x.dtype }).reshape(y.dims.map(Number));
}

function assertNear(got: nb.Tensor, want: nb.Tensor, msg: string): void {
  const scale = Math.max(...Array.from(want.data, Math.abs));
  nb.testing.assertClose(got, want, { rtol: 1e-4, atol: 1e-4 * scale, msg });
}

// On the js backend (npm run test:js) the deep nets' forwards take minutes: there the families' small members run.
const JS_CASES = new Set([
  "lenet5",
  "convnet_bn",
  "googlenet",
  "bn_inception",
  "resnet18 smallInput",
  "densenet121 smallInput",
  "vgg11_bn smallInput",
]);
const onJs = nb.backend.getBackend().name === "js";

// scripts/fixtures/onnx_check.py: onnx.checker (full check, with shape inference) on every case's bytes
const checked = nb.testing.loadJsonFixture<{ models: Record<string, { sha256: string; ops: string[] }> }>(fixturePath("onnx_checked.json"));

test("onnx.checker passed every zoo model's graph (the fixture covers every case)", () => {
  assert.deepEqual(Object.keys(checked.models).sort(), Object.keys(zooCases).sort());
});

for (const [name, [, , shape]] of Object.entries(zooCases)) {
  const skipCase =
    skip || (onJs && !JS_CASES.has(name) ? "js backend: the native run exports every model, this one the small ones" : false);
  test(`${name}: the exported graph runs in onnxruntime with nabla's eval outputs, at two batch sizes`, { skip: skipCase }, async () => {
    const { model, x, bytes } = exportZooCase(name);
    assert.ok(model.training, "export restores training mode");
    const sha = createHash("sha256").update(bytes).digest("hex");
    assert.equal(sha, checked.models[name]?.sha256, `${name}: these bytes are the ones onnx.checker passed (fixtures/onnx_checked.json)`);
    model.eval();
    const want = nb.noGrad(() => model.forward(x));
    assertNear(await runOrt(bytes, x), want, `${name} batch 2`);
    const x3 = nb.randn([3, ...shape]);
    assertNear(
      await runOrt(bytes, x3),
      nb.noGrad(() => model.forward(x3)),
      `${name} batch 3 (dynamicBatch)`,
    );
  });
}

test(
  "initializers carry the state-dict names; inputNames / outputNames name the graph's ends; a fixed batch stays fixed",
  { skip },
  async () => {
    nb.manualSeed(0);
    const model = nb.models.lenet5();
    const x = nb.randn([4, 1, 28, 28]);
    const bytes = nb.onnx.export(model, x, { inputNames: ["image"], outputNames: ["logits"] });
    const session = await ort!.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ["image"]);
    assert.deepEqual(session.outputNames, ["logits"]);
    model.eval();
    assertNear(
      await runOrt(bytes, x, "image", "logits"),
      nb.noGrad(() => model.forward(x)),
      "lenet5",
    );
    // every parameter name appears in the file as a string (field 8 of its TensorProto)
    const text = Buffer.from(bytes).toString("latin1");
    for (const k of Object.keys(model.stateDict())) assert.ok(text.includes(k), `initializer ${k}`);
    await assert.rejects(() => runOrt(bytes, nb.randn([3, 1, 28, 28]), "image", "logits"), /dimension|Got invalid dimensions|index: 0/i);
  },
);

test("float64 models export as DOUBLE and agree with nabla in float64", { skip }, async () => {
  // an MLP: onnxruntime's CPU provider has no float64 Conv kernel
  nb.manualSeed(1);
  const model = new nb.nn.Sequential(
    new nb.nn.Linear(6, 8),
    new nb.nn.BatchNorm1d(8),
    new nb.nn.ReLU(),
    new nb.nn.Linear(8, 3),
    new nb.nn.LogSoftmax(1),
  ).to("float64");
  randomizeBatchNorm(model);
  const x = nb.randn([4, 6], { dtype: "float64" });
  const bytes = nb.onnx.export(model, x);
  model.eval();
  const want = nb.noGrad(() => model.forward(x));
  nb.testing.assertClose(await runOrt(bytes, x), want, { rtol: 1e-12, atol: 1e-12 });
});

test(
  "functional ops and the glue between modules: pad, uneven adaptive pooling, LRN, softmax, leaky ReLU, scaled residuals",
  { skip },
  async () => {
    class Net extends nb.nn.Module {
      conv = new nb.nn.Conv2d(3, 6, 3, { stride: 2, padding: 1, dilation: 1, groups: 3 });
      conv2 = new nb.nn.Conv2d(6, 6, 3, { padding: 2, dilation: 2, bias: false });
      lrn = new nb.nn.LocalResponseNorm(3);
      bn = new nb.nn.BatchNorm2d(6);
      fc = new nb.nn.Linear(6 * 3 * 3, 5);
      forward(x: nb.Tensor): nb.Tensor {
        let h = nb.nn.functional.pad(x, [1, 0, 2, 1]);
        h = this.lrn.forward(this.conv.forward(h)); // [N, 6, 6, 5]
        h = nb.nn.functional.leakyRelu(nb.add(nb.mul(this.conv2.forward(h), 0.2), h), 0.1);
        h = nb.nn.functional.avgPool2d(this.bn.forward(h), 3, { stride: 1, padding: 1, ceilMode: true, countIncludePad: false });
        h = nb.nn.functional.maxPool2d(h, 2, { stride: 1, ceilMode: true });
        h = nb.nn.functional.adaptiveAvgPool2d(h, [3, 3]); // uneven windows from 5×4
        return nb.nn.functional.logSoftmax(this.fc.forward(nb.flatten(h, 1)).sigmoid().sqrt().exp(), 1);
      }
    }
    nb.manualSeed(2);
    const model = new Net();
    randomizeBatchNorm(model);
    const x = nb.randn([2, 3, 9, 7]);
    const bytes = nb.onnx.export(model, x, { dynamicBatch: true });
    model.eval();
    assertNear(
      await runOrt(bytes, x),
      nb.noGrad(() => model.forward(x)),
      "Net",
    );
    const x5 = nb.randn([5, 3, 9, 7]);
    assertNear(
      await runOrt(bytes, x5),
      nb.noGrad(() => model.forward(x5)),
      "Net batch 5",
    );
  },
);

test(
  "ceil-mode pooling where PyTorch drops a last window starting in the padding (ONNX keeps it): PyTorch's sizes and values",
  { skip },
  async () => {
    // 8 wide, kernel 3, stride 3, padding 1: PyTorch 3 outputs, ONNX's ceil formula 4
    for (const m of [
      new nb.nn.MaxPool2d(3, { stride: 3, padding: 1, ceilMode: true }),
      new nb.nn.AvgPool2d(3, { stride: 3, padding: 1, ceilMode: true, countIncludePad: false }),
    ]) {
      const x = nb.randn([2, 3, 8, 10]);
      const want = nb.noGrad(() => m.forward(x));
      assert.deepEqual(want.shape, [2, 3, 3, 4]);
      const got = await runOrt(nb.onnx.export(m, x), x);
      assert.deepEqual(got.shape, want.shape);
      assertNear(got, want, m.constructor.name);
    }
    const counted = new nb.nn.AvgPool2d(3, { stride: 3, padding: 1, ceilMode: true });
    assert.throws(() => nb.onnx.export(counted, nb.randn([1, 1, 8, 8])), /ceilMode and countIncludePad/);
  },
);

test("what ONNX cannot express is an ExportError naming the op and the module path", () => {
  class Gate extends nb.nn.Module {
    forward(x: nb.Tensor): nb.Tensor {
      return nb.where(nb.gt(x, 0), x, nb.mul(x, 2)); // a comparison: its mask would be frozen
    }
  }
  class Outer extends nb.nn.Module {
    body = new nb.nn.Sequential(new nb.nn.Linear(4, 4), new Gate());
    forward(x: nb.Tensor): nb.Tensor {
      return this.body.forward(x);
    }
  }
  assert.throws(
    () => nb.onnx.export(new Outer(), nb.randn([2, 4])),
    (e: Error) => {
      assert.ok(e instanceof nb.onnx.ExportError);
      assert.match(e.message, /'gt'/);
      assert.match(e.message, /module 'body\.1'/);
      return true;
    },
  );
  class Indexer extends nb.nn.Module {
    forward(x: nb.Tensor): nb.Tensor {
      return nb.indexSelect(x, 1, nb.tensor([2, 0], { dtype: "int32" }));
    }
  }
  assert.throws(
    () => nb.onnx.export(new Indexer(), nb.randn([2, 4])),
    /primitive 'gather' has no ONNX mapping \(in the model's own forward\)/,
  );
  // values read out of tensors in JavaScript would be frozen: a second trace on other inputs catches them
  class Peek extends nb.nn.Module {
    forward(x: nb.Tensor): nb.Tensor {
      return nb.add(x, nb.tensor([x.data[0]]));
    }
  }
  assert.throws(() => nb.onnx.export(new Peek(), nb.randn([2, 4])), /changes with the input's values/);
  class Branch extends nb.nn.Module {
    forward(x: nb.Tensor): nb.Tensor {
      return x.data[0] > 0 ? nb.relu(x) : nb.neg(x);
    }
  }
  assert.throws(() => nb.onnx.export(new Branch(), nb.ones([1, 3])), /data-dependent control flow/);
  const avg = new nb.nn.AvgPool2d(2, { divisorOverride: 3 });
  assert.throws(() => nb.onnx.export(avg, nb.randn([1, 1, 4, 4])), /divisorOverride/);
});

test("export's arguments: options by name only, wrong types are TypeErrors; exportFile writes atomically", () => {
  const m = nb.models.lenet5();
  const x = nb.randn([1, 1, 28, 28]);
  assert.throws(() => nb.onnx.export(m, x, { opset: 13 } as never), TypeError);
  assert.throws(() => nb.onnx.export(m, x, { dynamicBatch: 1 } as never), TypeError);
  assert.throws(() => nb.onnx.export(m, x, { inputNames: "x" } as never), TypeError);
  assert.throws(() => nb.onnx.export(m, [1, 2] as never), TypeError);
  assert.throws(() => nb.onnx.export({} as never, x), TypeError);
  assert.throws(() => nb.onnx.export(m, x, { opsetVersion: 12 }), TypeError);
  assert.throws(() => nb.onnx.export(m, x, { opsetVersion: 18 }), RangeError);
  const dir = mkdtempSync(join(tmpdir(), "nabla-onnx-"));
  try {
    const path = join(dir, "lenet5.onnx");
    nb.onnx.exportFile(m, x, path, { opsetVersion: 13 });
    assert.deepEqual(new Uint8Array(readFileSync(path)), nb.onnx.export(m, x, { opsetVersion: 13 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("nabla train → nabla export --checkpoint: onnxruntime gives nabla eval's test accuracy on the shipped slice", { skip }, async () => {
  const CLI = join(ROOT, "dist", "cli", "main.js");
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 300_000 });
  const dir = mkdtempSync(join(tmpdir(), "nabla-onnx-cli-"));
  try {
    const slice = join(ROOT, "data", "fashion-mnist-slice");
    const t = run("train", "--model", "lenet5", "--batch-norm", "--data", slice, "--epochs", "1", "--limit", "1000", "--out", dir);
    assert.equal(t.status, 0, t.stderr);
    const ckpt = join(dir, "checkpoint.safetensors");
    const e = run("eval", "--checkpoint", ckpt);
    assert.equal(e.status, 0, e.stderr);
    const evalAcc = Number(/top-1 ([\d.]+)%/.exec(e.stdout)![1]);
    const file = join(dir, "lenet5.onnx");
    const x = run("export", "--checkpoint", ckpt, "--format", "onnx", "--out", file);
    assert.equal(x.status, 0, x.stderr);
    assert.match(x.stdout, /input "input" \[any batch, 1, 28, 28\]/);
    assert.match(x.stdout, /standardized per channel/);
    // the user's side: standardize the test images with the checkpoint's statistics, run onnxruntime
    const extra = JSON.parse(nb.io.loadSafetensorsFile(ckpt).metadata.extra!) as { standardize: nb.data.Standardize };
    const test = nb.data.mnistFormat(slice, "test").withStandardization(extra.standardize);
    const session = await ort!.InferenceSession.create(new Uint8Array(readFileSync(file)));
    let correct = 0;
    for (const { x: xb, y: yb } of new nb.data.DataLoader(test, { batchSize: 250 })) {
      const r = await session.run({ input: new ort!.Tensor("float32", xb.data as Float32Array, xb.shape) });
      const logits = nb.tensor(Array.from(r.output.data as Float32Array)).reshape([xb.shape[0], 10]);
      const pred = nb.argmax(logits, 1).data;
      for (let i = 0; i < pred.length; i++) if (pred[i] === yb.data[i]) correct++;
    }
    const ortAcc = (100 * correct) / test.length;
    assert.equal(ortAcc.toFixed(2), evalAcc.toFixed(2), `onnxruntime ${ortAcc}% vs nabla eval ${evalAcc}%`);
    assert.ok(ortAcc > 50, `accuracy ${ortAcc}% after one short epoch`);
    const bad = run("export", "--checkpoint", ckpt, "--model", "lenet5", "--out", file);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /exactly one of --model NAME and --checkpoint FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
