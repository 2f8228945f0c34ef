// Module semantics: registration, traversal, modes, stateDict keys, strict loading, printout, init.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { throwsWith } from "./helpers.js";

const nn = nb.nn;

class Net extends nn.Module {
  conv = new nn.Conv2d(1, 2, 3, { bias: false });
  bn = new nn.BatchNorm2d(2);
  head = new nn.Sequential(new nn.Flatten(), new nn.Linear(8, 3));
  forward(x: nb.Tensor): nb.Tensor {
    return this.head.forward(this.bn.forward(this.conv.forward(x)).relu()); // [N,1,4,4] → [N,2,2,2] → [N,3]
  }
}

test("stateDict keys and order are PyTorch's", () => {
  const keys = Object.keys(new Net().stateDict());
  assert.deepEqual(keys, [
    "conv.weight",
    "bn.weight",
    "bn.bias",
    "bn.running_mean",
    "bn.running_var",
    "bn.num_batches_tracked",
    "head.1.weight",
    "head.1.bias",
  ]);
  const net = new Net();
  assert.deepEqual(
    net.namedParameters().map((e) => e[0]),
    ["conv.weight", "bn.weight", "bn.bias", "head.1.weight", "head.1.bias"],
  );
  assert.deepEqual(
    net.namedBuffers().map((e) => e[0]),
    ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"],
  );
  assert.deepEqual(
    net.namedModules().map((e) => e[0]),
    ["", "conv", "bn", "head", "head.0", "head.1"],
  );
  assert.equal(net.children().length, 3);
  assert.equal(net.stateDict()["bn.num_batches_tracked"].dtype, "int32");
});

test("train/eval propagate; zeroGrad clears; apply visits children first", () => {
  const net = new Net();
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
  net.train();
  assert.ok(net.modules().every((m) => m.training));
  const y = net.forward(nb.randn([2, 1, 4, 4]));
  y.sum().backward();
  assert.ok(net.parameters().every((p) => p.grad !== null));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
  const order: string[] = [];
  net.apply((m) => order.push(m.constructor.name));
  assert.equal(order[order.length - 1], "Net");
});

test("loadStateDict copies values; strict errors list every problem at once", () => {
  const a = new Net(),
    b = new Net();
  b.loadStateDict(a.stateDict());
  for (const [k, v] of Object.entries(a.stateDict())) assert.deepEqual([...b.stateDict()[k].data], [...v.data], k);
  const bad: Record<string, nb.Tensor> = { ...a.stateDict(), extra: nb.zeros([1]), "head.1.weight": nb.zeros([2, 2]) };
  delete bad["bn.bias"];
  throwsWith(
    () => b.loadStateDict(bad),
    'Missing key(s) in state_dict: "bn.bias"',
    'Unexpected key(s) in state_dict: "extra"',
    "head.1.weight: copying a param with shape [2, 2], the shape in current model is [3, 8]",
  );
  const sd = new Map(Object.entries(a.stateDict()));
  sd.delete("conv.weight");
  const r = b.loadStateDict(sd, { strict: false });
  assert.deepEqual(r.missingKeys, ["conv.weight"]);
});

test("toString prints like PyTorch", () => {
  const s = new nn.Sequential(
    new nn.Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }),
    new nn.BatchNorm2d(64),
    new nn.ReLU(),
    new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(64, 10),
  );
  assert.equal(
    s.toString(),
    [
      "Sequential(",
      "  (0): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
      "  (1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
      "  (2): ReLU()",
      "  (3): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
      "  (4): AdaptiveAvgPool2d(output_size=(1, 1))",
      "  (5): Flatten(start_dim=1, end_dim=-1)",
      "  (6): Dropout(p=0.5, inplace=False)",
      "  (7): Linear(in_features=64, out_features=10, bias=True)",
      ")",
    ].join("\n"),
  );
});

test("default initialization draws from PyTorch's distributions", () => {
  nb.manualSeed(0);
  const fc = new nn.Linear(400, 300);
  const bound = 1 / Math.sqrt(400); // kaiming_uniform(a=√5) ⇒ U(±1/√fan_in)
  const w = fc.weight.data;
  assert.ok(Array.from(w).every((v) => Math.abs(v) <= bound));
  // Variance of U(−b, b) is b²/3; 120k samples give a standard error of ~0.4%.
  const v = nb.var(fc.weight).item();
  assert.ok(Math.abs(v / ((bound * bound) / 3) - 1) < 0.02, `variance ${v}`);
  const conv = new nn.Conv2d(16, 32, 3, { groups: 2 });
  const cb = 1 / Math.sqrt(8 * 9);
  assert.ok(Array.from(conv.weight.data).every((x) => Math.abs(x) <= cb) && Array.from(conv.bias!.data).every((x) => Math.abs(x) <= cb));
  const kn = nn.init.kaimingNormal(nb.zeros([256, 128, 3, 3]), { mode: "fan_out", nonlinearity: "relu" });
  assert.ok(Math.abs(nb.var(kn).item() / (2 / (256 * 9)) - 1) < 0.02);
  const xu = nn.init.xavierUniform(nb.zeros([300, 200]), 2);
  const xb = 2 * Math.sqrt(6 / 500);
  assert.ok(Math.abs(nb.var(xu).item() / ((xb * xb) / 3) - 1) < 0.02);
  const xn = nn.init.xavierNormal(nb.zeros([300, 200]));
  assert.ok(Math.abs(nb.var(xn).item() / (2 / 500) - 1) < 0.02);
  assert.equal(nn.init.calculateGain("leaky_relu", 0.2), Math.sqrt(2 / 1.04));
  assert.equal(nn.init.calculateGain("tanh"), 5 / 3);
});

test("BatchNorm rejects bad input with clear errors", () => {
  throwsWith(() => new nn.BatchNorm2d(3).forward(nb.zeros([2, 3, 4])), "BatchNorm2d: expected 4D input, got 3D input [2, 3, 4]");
  throwsWith(() => new nn.BatchNorm1d(3).forward(nb.zeros([2, 4])), "[2, 4] has 4 channels, expected 3");
  throwsWith(() => new nn.BatchNorm1d(3).forward(nb.zeros([1, 3])), "expected more than 1 value per channel when training");
  throwsWith(() => new nn.Linear(3, 2).forward(nb.zeros([4, 5])), "linear", "[4, 5]", "expects 3");
});

test("Dropout: identity in eval; in training zeroes about p and rescales by 1/(1−p)", () => {
  const d = new nn.Dropout(0.25);
  const x = nb.ones([10000]);
  const y = d.forward(x);
  const zeros = Array.from(y.data).filter((v) => v === 0).length;
  assert.ok(Math.abs(zeros / 10000 - 0.25) < 0.02);
  assert.ok(Array.from(y.data).every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  d.eval();
  assert.equal(d.forward(x), x);
});
