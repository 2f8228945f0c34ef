// The model zoo against torchvision 0.14 (fixtures/zoo.json from scripts/fixtures/zoo.py): parameter
// counts, state-dict keys (in order), and the multiply-accumulates summary() reports.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { fixturePath } from "./helpers.js";

interface Ref {
  params: number;
  keys: string[];
  macs: number;
  paramsNoAux?: number;
  keysNoAux?: string[];
}
const fx = nb.testing.loadJsonFixture<{ models: Record<string, Ref> }>(fixturePath("zoo.json"));
const build = (name: string, opts: Record<string, unknown> = {}) => nb.nn.init.skipInit(() => nb.models.get(name, opts));
const count = (m: nb.nn.Module) => m.parameters().reduce((a, p) => a + p.data.length, 0);

test("models.list() names every factory, torchvision's spelling", () => {
  assert.deepEqual(nb.models.list().sort(), [
    "alexnet",
    "bn_inception",
    "convnet_bn",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "googlenet",
    "inception_resnet_v1",
    "inception_resnet_v2",
    "inception_v3",
    "inception_v4",
    "lenet5",
    "preact_resnet101",
    "preact_resnet152",
    "preact_resnet18",
    "preact_resnet200",
    "preact_resnet34",
    "preact_resnet50",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "resnext50_32x4d",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
  ]);
  for (const name of Object.keys(fx.models)) assert.ok(nb.models.list().includes(name), name);
});

for (const [name, ref] of Object.entries(fx.models)) {
  test(`${name}: parameter count and state_dict keys equal the reference (torchvision, or the public port)`, () => {
    const m = build(name);
    assert.equal(count(m), ref.params);
    assert.deepEqual(Object.keys(m.stateDict()), ref.keys);
    if (ref.paramsNoAux !== undefined) {
      const m2 = build(name, { auxLogits: false });
      assert.equal(count(m2), ref.paramsNoAux);
      assert.deepEqual(Object.keys(m2.stateDict()), ref.keysNoAux);
    }
  });
}

test("the parameter counts the issue quotes (torchvision's documentation)", () => {
  const expected: [string, Record<string, unknown>, number][] = [
    ["resnet18", {}, 11_689_512],
    ["resnet50", {}, 25_557_032],
    ["resnext50_32x4d", {}, 25_028_904],
    ["resnext101_64x4d", {}, 83_455_272],
    ["densenet121", {}, 7_978_856],
    ["googlenet", { auxLogits: false }, 6_624_904],
    ["googlenet", {}, 13_004_888],
    ["inception_v3", { auxLogits: false }, 23_834_568],
    ["inception_v3", {}, 27_161_264],
    ["alexnet", {}, 61_100_840],
    ["vgg16", {}, 138_357_544],
    ["vgg11_bn", {}, 132_868_840],
  ];
  for (const [name, opts, n] of expected) assert.equal(count(build(name, opts)), n, `${name} ${JSON.stringify(opts)}`);
});

test("summary() multiply-accumulates: resnet18, resnet50, vgg16 at 224×224 match torchvision (published 1.81, 4.09, 15.47 G)", () => {
  for (const [name, published] of [
    ["resnet18", 1.81e9],
    ["resnet50", 4.09e9],
    ["vgg16", 15.47e9],
  ] as const) {
    const s = nb.summary(build(name), [3, 224, 224]);
    assert.equal(s.totalMacs, fx.models[name].macs, `${name}: exact count from PyTorch forward hooks`);
    assert.ok(Math.abs(s.totalMacs / published - 1) < 0.01, `${name}: ${s.totalMacs} vs published ${published}`);
    assert.equal(s.totalParams, fx.models[name].params);
  }
});

test("summary() reports per-layer shapes and a readable table", () => {
  const s = nb.summary(nb.models.lenet5(), [1, 28, 28]);
  const conv2 = s.layers.find((l) => l.name === "features.3")!;
  assert.deepEqual(conv2.outputShape, [1, 16, 10, 10]);
  assert.equal(conv2.params, 16 * 6 * 25 + 16);
  assert.equal(conv2.macs, 16 * 10 * 10 * 6 * 25);
  assert.equal(s.totalParams, 61_706);
  assert.match(s.text, /Total params: 61,706/);
  assert.match(s.text, /features\.0 \(Conv2d\)\s+\[1, 6, 28, 28\]\s+156/);
});

test("Inception-v4 and Inception-ResNet-v2 (no torchvision reference) agree with timm's published size and cost", () => {
  // timm's model cards (inception_v4.tf_in1k, inception_resnet_v2.tf_in1k — the Cadene ports of the paper's
  // TensorFlow models): 42.7 M and 55.8 M parameters, 12.3 and 13.2 GMACs at 299×299.
  for (const [name, mParams, gMacs] of [
    ["inception_v4", 42.7, 12.3],
    ["inception_resnet_v2", 55.8, 13.2],
  ] as const) {
    const s = nb.summary(build(name), [3, 299, 299]);
    assert.equal(Math.round(s.totalParams / 1e5) / 10, mParams, `${name}: ${s.totalParams} parameters`);
    assert.ok(Math.abs(s.totalMacs / 1e9 / gMacs - 1) < 0.01, `${name}: ${s.totalMacs} mult-adds`);
    assert.deepEqual(s.layers[s.layers.length - 1].outputShape, [1, 1000]);
  }
  const small = nb.summary(build("inception_v4", { numClasses: 10 }), [3, 75, 75]);
  assert.deepEqual(small.layers[small.layers.length - 1].outputShape, [1, 10]);
});

test("BN-Inception (inception_v2) against the paper: 2.0 G mult-adds at 224×224, the 1024-channel 7×7 map, no dropout", () => {
  // Ioffe & Szegedy 2015 / Szegedy et al. 2016 Table 3: "BN-Inception … 2.0 G" operations per 224×224 image.
  const s = nb.summary(build("bn_inception"), [3, 224, 224]);
  assert.ok(Math.abs(s.totalMacs / 2.0e9 - 1) < 0.02, `${s.totalMacs} mult-adds`);
  const pool = s.layers.find((l) => l.name === "global_pool")!;
  assert.deepEqual(pool.outputShape, [1, 1024, 1, 1]);
  const m = build("inception_v2");
  assert.ok(m instanceof nb.models.BNInception, "inception_v2 is the same network");
  assert.equal(count(m), fx.models.bn_inception.params);
  assert.ok(!m.modules().some((x) => x instanceof nb.nn.Dropout));
  assert.deepEqual(nb.models.referenceInput("inception_v2"), [3, 224, 224]);
  assert.throws(() => nb.models.get("inception_v2", { auxLogits: false }), /TypeError|auxLogits/);
});

test("Inception-ResNet-v1: the paper's grid sizes (35×35×256, 17×17×896, 8×8×1792) and cost near Inception-v3's", () => {
  const m = build("inception_resnet_v1") as nb.models.InceptionResNetV1;
  const shapes: Record<string, readonly number[]> = {};
  for (const name of ["conv2d_4b", "mixed_6a", "mixed_7a"] as const)
    m[name].registerForwardHook((_m, _i, out) => {
      shapes[name] = (out as nb.Tensor).shape;
    });
  const s = nb.summary(m, [3, 299, 299]);
  assert.deepEqual(shapes, { conv2d_4b: [1, 256, 35, 35], mixed_6a: [1, 896, 17, 17], mixed_7a: [1, 1792, 8, 8] });
  // the paper: "roughly the computational cost of Inception-v3"
  const v3 = fx.models.inception_v3.macs;
  assert.ok(s.totalMacs > v3 && s.totalMacs < 1.2 * v3, `${s.totalMacs} vs Inception-v3 ${v3}`);
  assert.deepEqual(nb.models.referenceInput("inception_resnet_v1"), [3, 299, 299]);
});

test("a state dict without num_batches_tracked (saved before PyTorch 0.4.1) loads strictly; the counters become 0", () => {
  nb.manualSeed(0);
  const src = nb.models.convnet_bn();
  const dst = nb.models.convnet_bn();
  const sd = Object.fromEntries(Object.entries(src.stateDict()).filter(([k]) => !k.endsWith("num_batches_tracked")));
  const bn = dst.modules().find((m) => m instanceof nb.nn.BatchNorm2d) as nb.nn.BatchNorm2d;
  bn.numBatchesTracked!.data[0] = 7;
  const r = dst.loadStateDict(sd);
  assert.deepEqual(r.missingKeys, []);
  assert.equal(bn.numBatchesTracked!.data[0], 0);
  // any other missing key is still an error
  const noWeight = Object.fromEntries(Object.entries(sd).filter(([k]) => !k.endsWith("running_mean")));
  assert.throws(() => dst.loadStateDict(noWeight), /Missing key\(s\) in state_dict: .*running_mean/);
});

test("lenet5 accepts 28×28 and 32×32 inputs (28×28 zero-padded by 2, as conv1 padding 2 would) and rejects others", () => {
  nb.manualSeed(0);
  const m = nb.models.lenet5();
  const x28 = nb.randn([2, 1, 28, 28]);
  assert.deepEqual(m.forward(x28).shape, [2, 10]);
  assert.deepEqual(m.forward(nb.randn([2, 1, 32, 32])).shape, [2, 10]);
  const conv1 = m.features.at(0) as nb.nn.Conv2d;
  const direct = nb.nn.functional.conv2d(x28, conv1.weight, { bias: conv1.bias, padding: 2 });
  nb.testing.assertClose(conv1.forward(nb.nn.functional.pad(x28, [2, 2, 2, 2])), direct, { rtol: 1e-6, atol: 1e-6 });
  assert.throws(
    () => m.forward(nb.randn([1, 1, 30, 30])),
    /lenet5: expected \[N, C, 28, 28\] or \[N, C, 32, 32\] input, got \[1, 1, 30, 30\]/,
  );
});
