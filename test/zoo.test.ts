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
    "convnet_bn",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "googlenet",
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
  test(`${name}: parameter count and state_dict keys equal torchvision's`, () => {
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
