// Silent traps for JavaScript callers (issue 19, item 1): every public constructor, factory, optimizer and
// scheduler takes PyTorch's positional order or an options object; an unknown key, a wrong kind, a
// missing required argument or a surplus argument is a TypeError naming the class and the argument.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";

const nn = nb.nn;
const S = nb.optim.lrScheduler;
// JavaScript callers: no type checking of the arguments
const js = (f: unknown) => f as new (...a: unknown[]) => any;
const jsf = (f: unknown) => f as (...a: unknown[]) => any;
const params = () => [nb.zeros([3], { requiresGrad: true })];
const typeErr = (re: RegExp) => (e: unknown) => e instanceof TypeError && re.test((e as Error).message);

test("new Conv2d(1, 4, 3, 2) convolves at stride 2, PyTorch's positional order (stride, padding, dilation, groups, bias)", () => {
  const c = new (js(nn.Conv2d))(1, 4, 3, 2);
  assert.deepEqual(c.stride, [2, 2]);
  assert.deepEqual(c.forward(nb.zeros([1, 1, 9, 9])).shape, [1, 4, 4, 4]); // ⌊(9 − 3)/2⌋ + 1
  const d = new (js(nn.Conv2d))(2, 4, 3, 1, 1, 2, 2, false);
  assert.deepEqual([d.padding, d.dilation, d.groups, d.bias], [[1, 1], [2, 2], 2, null]);
  assert.deepEqual(d.weight.shape, [4, 1, 3, 3]);
  // positional, then options for the rest; and all-options
  assert.deepEqual(new (js(nn.Conv2d))(1, 4, 3, 2, { padding: 1 }).padding, [1, 1]);
  assert.deepEqual(new (js(nn.Conv2d))({ inChannels: 1, outChannels: 4, kernelSize: 5 }).weight.shape, [4, 1, 5, 5]);
});

test("new Linear(4, 2, false) has no bias", () => {
  assert.equal(new (js(nn.Linear))(4, 2, false).bias, null);
  assert.equal(new (js(nn.Linear))(4, 2, { bias: false }).bias, null);
  assert.notEqual(new nn.Linear(4, 2).bias, null);
});

test("new MaxPool2d(3, 2) pools at stride 2 and prints stride=2; AvgPool2d alike", () => {
  const m = new (js(nn.MaxPool2d))(3, 2);
  assert.match(m.toString(), /kernel_size=3, stride=2,/);
  assert.deepEqual(m.forward(nb.zeros([1, 1, 7, 7])).shape, [1, 1, 3, 3]);
  const a = new (js(nn.AvgPool2d))(3, 2, 1);
  assert.match(a.toString(), /stride=2, padding=1/);
  assert.deepEqual(a.forward(nb.zeros([1, 1, 7, 7])).shape, [1, 1, 4, 4]);
  assert.throws(() => new (js(nn.MaxPool2d))(3, 2, 0, 1, true), typeErr(/MaxPool2d: returnIndices must be one of false, got boolean true/));
});

test("resnet18({ weights }) and misspelled factory options are TypeErrors, not a random 1000-class model", () => {
  assert.throws(
    () => jsf(nb.models.resnet18)({ weights: "IMAGENET1K_V1" }),
    typeErr(/resnet18: weights must be null: nabla ships no pretrained weights/),
  );
  assert.throws(
    () => jsf(nb.models.resnet18)({ numClases: 10 }),
    typeErr(/resnet18: unknown option "numClases" \(did you mean numClasses\?\)/),
  );
  assert.throws(() => jsf(nb.models.resnet18)({ num_classes: 10 }), typeErr(/did you mean numClasses\?/));
  assert.throws(() => jsf(nb.models.resnet18)(10), typeErr(/resnet18: takes one options object/));
  assert.throws(() => nb.models.get("vgg11", { numClasses: "10" }), typeErr(/vgg11: numClasses must be an integer ≥ 1, got string "10"/));
  // ResNeXt fixes its groups, as torchvision's factory refuses another value
  assert.throws(() => jsf(nb.models.resnext50_32x4d)({ groups: 8 }), typeErr(/resnext50_32x4d: unknown option "groups"/));
  const m = nb.nn.init.skipInit(() => nb.models.resnet18({ numClasses: 10, weights: null, progress: false }));
  assert.deepEqual((m as any).fc.weight.shape, [10, 512]);
});

test("new StepLR(opt, { stepSize: 7 }) steps the rate at epoch 7; every scheduler takes PyTorch's order or options", () => {
  const lrs = (make: (o: nb.optim.SGD) => { step(): void }) => {
    const opt = new nb.optim.SGD(params(), { lr: 1 });
    const s = make(opt);
    const out: number[] = [];
    for (let e = 0; e < 8; e++) {
      out.push(opt.paramGroups[0].lr);
      s.step();
    }
    return out;
  };
  const expected = [1, 1, 1, 1, 1, 1, 1, 0.5]; // closed form: γ^⌊e/7⌋
  assert.deepEqual(
    lrs((o) => new (js(S.StepLR))(o, { stepSize: 7, gamma: 0.5 })),
    expected,
  );
  assert.deepEqual(
    lrs((o) => new S.StepLR(o, 7, 0.5)),
    expected,
  );
  assert.deepEqual(
    lrs((o) => new (js(S.MultiStepLR))(o, { milestones: [2, 4], gamma: 0.5 })),
    [1, 1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25],
  );
  assert.deepEqual(lrs((o) => new (js(S.ExponentialLR))(o, { gamma: 0.5 })).slice(0, 3), [1, 0.5, 0.25]);
  assert.throws(() => new (js(S.StepLR))(new nb.optim.SGD(params(), { lr: 1 })), typeErr(/StepLR: missing required argument stepSize/));
  assert.throws(() => new (js(S.StepLR))(new nb.optim.SGD(params(), { lr: 1 }), { step_size: 7 }), typeErr(/did you mean stepSize\?/));
  assert.throws(() => new (js(S.StepLR))({ lr: 1 }, 7), typeErr(/StepLR: the first argument must be an optimizer, got an options object/));
  const plateau = new (js(S.ReduceLROnPlateau))(new nb.optim.SGD(params(), { lr: 1 }), "max", 0.5, 3);
  assert.deepEqual([plateau.mode, plateau.factor, plateau.patience], ["max", 0.5, 3]);
  const cyc = new (js(S.OneCycleLR))(new nb.optim.SGD(params(), { lr: 1, momentum: 0.9 }), { maxLr: 0.5, totalSteps: 10 });
  assert.equal(cyc.totalSteps, 10);
});

test("optimizers: PyTorch's positional order, options, and no silently ignored option", () => {
  const sgd = new (js(nb.optim.SGD))(params(), 0.1, 0.9, 0, 0.01, true);
  assert.deepEqual((({ lr, momentum, weightDecay, nesterov }) => ({ lr, momentum, weightDecay, nesterov }))(sgd.paramGroups[0]), {
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 0.01,
    nesterov: true,
  });
  assert.deepEqual(new (js(nb.optim.Adam))(params(), 0.01, [0.8, 0.99]).paramGroups[0].betas, [0.8, 0.99]);
  assert.equal(new (js(nb.optim.Adam))(params(), 0.01, [0.8, 0.99], 1e-8, 0, false, { maximize: true }).paramGroups[0].maximize, true);
  assert.throws(() => new (js(nb.optim.SGD))(params()), typeErr(/SGD: missing required argument lr/));
  assert.throws(() => new (js(nb.optim.Adam))(params(), { learning_rate: 0.1 }), typeErr(/Adam: unknown option "learning_rate"/));
  assert.throws(() => new (js(nb.optim.Adam))(params(), { weight_decay: 0.1 }), typeErr(/did you mean weightDecay\?/));
  assert.throws(() => new (js(nb.optim.Adam))(params(), { lr: "0.1" }), typeErr(/Adam: lr must be a finite number, got string "0.1"/));
  // maximize is keyword-only in torch.optim.Adam: a seventh positional argument is refused
  assert.throws(
    () => new (js(nb.optim.Adam))(params(), 0.01, [0.9, 0.99], 1e-8, 0, false, true),
    typeErr(/Adam: takes at most 5 positional arguments/),
  );
  // a parameter group's keys are checked too
  assert.throws(
    () => new nb.optim.SGD([{ params: params(), learningRate: 0.1 } as any], { lr: 0.1 }),
    typeErr(/SGD: unknown option "learningRate" in a parameter group/),
  );
  // the negative-value checks keep PyTorch's messages
  assert.throws(() => new nb.optim.SGD(params(), { lr: -1 }), /Invalid learning rate: -1/);
});

test("layers and losses: unknown keys, wrong kinds, surplus and missing arguments are TypeErrors naming the class", () => {
  assert.throws(() => new (js(nn.Conv2d))(1, 4, 3, { strides: 2 }), typeErr(/Conv2d: unknown option "strides" \(did you mean stride\?\)/));
  assert.throws(() => new (js(nn.Conv2d))(1, 4), typeErr(/Conv2d: missing required argument kernelSize/));
  assert.throws(
    () => new (js(nn.Conv2d))(1, 4, 3, 1, 0, 1, 1, true, "reflect"),
    typeErr(/Conv2d: paddingMode must be one of "zeros", got string "reflect"/),
  );
  assert.throws(() => new (js(nn.Conv2d))(1, 4, 3, 1, 0, 1, 1, true, "zeros", "cuda"), typeErr(/Conv2d: device must be "cpu"/));
  assert.throws(() => new (js(nn.Linear))("4", 2), typeErr(/Linear: inFeatures must be an integer ≥ 0, got string "4"/));
  assert.throws(() => new (js(nn.Linear))(4, 2, true, null, "float32", 7), typeErr(/Linear: takes at most 5 positional arguments/));
  assert.throws(() => new (js(nn.Linear))(4, 2, { bias: false }, true), typeErr(/Linear: an options object must come last/));
  assert.throws(
    () => new (js(nn.BatchNorm2d))(8, { momentun: 0.1 }),
    typeErr(/BatchNorm2d: unknown option "momentun" \(did you mean momentum\?\)/),
  );
  assert.equal(new (js(nn.BatchNorm2d))(8, 1e-3, 0.01).momentum, 0.01);
  assert.throws(() => new (js(nn.Sigmoid))(1), typeErr(/Sigmoid: takes no arguments, got number 1/));
  assert.throws(() => new (js(nn.Softmax))(), typeErr(/Softmax: missing required argument dim/));
  assert.throws(() => new (js(nn.Dropout))("0.5"), typeErr(/Dropout: p must be a finite number/));
  assert.equal(new (js(nn.LeakyReLU))(0.2, true).negativeSlope, 0.2);
  assert.throws(
    () => new (js(nn.CrossEntropyLoss))({ labelSmothing: 0.1 }),
    typeErr(/CrossEntropyLoss: unknown option "labelSmothing" \(did you mean labelSmoothing\?\)/),
  );
  const w = nb.tensor([1, 2, 3]);
  assert.equal(new (js(nn.CrossEntropyLoss))(w).opts.weight, w); // PyTorch's first positional argument
  assert.throws(() => new (js(nn.MSELoss))(true), typeErr(/MSELoss: sizeAverage must be null \(deprecated in PyTorch: use reduction\)/));
  assert.throws(() => new (js(nn.Sequential))(new nn.ReLU(), nn.ReLU), typeErr(/Sequential: child 1 is not a Module/));
});

test("every public constructor, factory, optimizer and scheduler refuses an unknown option naming itself and the key", () => {
  const opt = () => new nb.optim.SGD(params(), { lr: 0.1, momentum: 0.9 });
  const bogus = { bogusOption: 1 };
  const cases: [string, () => unknown][] = [
    ["Conv2d", () => new (js(nn.Conv2d))(1, 1, 3, bogus)],
    ["Linear", () => new (js(nn.Linear))(1, 1, bogus)],
    ["Flatten", () => new (js(nn.Flatten))(bogus)],
    ["BatchNorm1d", () => new (js(nn.BatchNorm1d))(2, bogus)],
    ["BatchNorm2d", () => new (js(nn.BatchNorm2d))(2, bogus)],
    ["LocalResponseNorm", () => new (js(nn.LocalResponseNorm))(5, bogus)],
    ["ReLU", () => new (js(nn.ReLU))(bogus)],
    ["LeakyReLU", () => new (js(nn.LeakyReLU))(bogus)],
    ["Sigmoid", () => new (js(nn.Sigmoid))(bogus)],
    ["Tanh", () => new (js(nn.Tanh))(bogus)],
    ["Softmax", () => new (js(nn.Softmax))(1, bogus)],
    ["LogSoftmax", () => new (js(nn.LogSoftmax))(1, bogus)],
    ["MaxPool2d", () => new (js(nn.MaxPool2d))(2, bogus)],
    ["AvgPool2d", () => new (js(nn.AvgPool2d))(2, bogus)],
    ["AdaptiveAvgPool2d", () => new (js(nn.AdaptiveAvgPool2d))({ outputSize: 1, ...bogus })],
    ["Dropout", () => new (js(nn.Dropout))(bogus)],
    ...[
      "L1Loss",
      "MSELoss",
      "SmoothL1Loss",
      "HuberLoss",
      "CrossEntropyLoss",
      "NLLLoss",
      "BCELoss",
      "BCEWithLogitsLoss",
      "MultiLabelSoftMarginLoss",
    ].map((n): [string, () => unknown] => [n, () => new (js((nn as any)[n]))(bogus)]),
    ...["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "NAdam", "RMSprop", "LBFGS"].map((n): [string, () => unknown] => [
      n,
      () => new (js((nb.optim as any)[n]))(params(), { lr: 0.1, ...bogus }),
    ]),
    ["StepLR", () => new (js(S.StepLR))(opt(), 3, bogus)],
    ["MultiStepLR", () => new (js(S.MultiStepLR))(opt(), [3], bogus)],
    ["ExponentialLR", () => new (js(S.ExponentialLR))(opt(), 0.5, bogus)],
    ["CosineAnnealingLR", () => new (js(S.CosineAnnealingLR))(opt(), 10, bogus)],
    ["LinearLR", () => new (js(S.LinearLR))(opt(), bogus)],
    ["OneCycleLR", () => new (js(S.OneCycleLR))(opt(), 0.1, { totalSteps: 10, ...bogus })],
    ["ReduceLROnPlateau", () => new (js(S.ReduceLROnPlateau))(opt(), bogus)],
    ...nb.models.list().map((n): [string, () => unknown] => [n, () => nb.models.get(n, bogus)]),
  ];
  for (const [name, make] of cases) {
    assert.throws(
      make,
      (e: unknown) => e instanceof TypeError && (e as Error).message.startsWith(`${name}: unknown option "bogusOption"`),
      name,
    );
  }
});

test("functional ops, creation ops and initializers refuse unknown option keys with a did-you-mean", () => {
  const F = nn.functional;
  const x = nb.randn([3, 5]);
  const y = nb.tensor([0, 1, 2], { dtype: "int32" });
  assert.throws(
    () => F.crossEntropy(x, y, { labelSmothing: 0.1 } as never),
    typeErr(/crossEntropy: unknown option "labelSmothing" \(did you mean labelSmoothing\?\)/),
  );
  assert.throws(() => F.mseLoss(x, x, { reduce: false } as never), typeErr(/mseLoss: unknown option "reduce"; it takes reduction/));
  assert.throws(
    () => F.conv2d(nb.ones([1, 1, 3, 3]), nb.ones([1, 1, 2, 2]), { paddding: 1 } as never),
    typeErr(/conv2d: unknown option "paddding" \(did you mean padding\?\)/),
  );
  assert.throws(() => nb.zeros([2], { dtpye: "float64" } as never), typeErr(/zeros: unknown option "dtpye" \(did you mean dtype\?\)/));
  assert.throws(
    () => nb.tensor([1], { requires_grad: true } as never),
    typeErr(/tensor: unknown option "requires_grad" \(did you mean requiresGrad\?\)/),
  );
  assert.throws(() => nb.randn([2], { seed: 1 } as never), typeErr(/randn: unknown option "seed"/));
  assert.throws(() => nb.sum(x, 0, { keepDim: true } as never), typeErr(/sum: unknown option "keepDim" \(did you mean keepdim\?\)/));
  assert.throws(() => jsf(nb.zeros)([2], 3), typeErr(/zeros: expected an options object \{ dtype, requiresGrad \} here, got number 3/));
  // the options object may follow arange's numbers; a non-number is named
  assert.equal(nb.arange(5, { dtype: "float64" }).dtype, "float64");
  assert.deepEqual(Array.from(nb.arange(0, 1, 0.25).data), [0, 0.25, 0.5, 0.75]);
  assert.throws(() => jsf(nb.arange)(0, "10"), typeErr(/arange: end must be a finite number, got string "10"/));
  assert.equal(nb.eye(2, { dtype: "float64" }).dtype, "float64");
  // torch.nn.init's positional order: kaiming_uniform_(w, a=√5) is what nn.Linear's reset writes
  const w1 = nn.init.kaimingUniform(nb.zeros([100, 50]), Math.sqrt(5));
  const bound = (Math.sqrt(3) * Math.sqrt(2 / (1 + 5))) / Math.sqrt(50); // gain(leaky_relu, √5)·√3/√fan_in
  assert.ok(Math.max(...w1.data.map(Math.abs)) <= bound && Math.max(...w1.data.map(Math.abs)) > 0.9 * bound);
  assert.throws(
    () => jsf(nn.init.kaimingUniform)(nb.zeros([3, 3]), "fan_in"),
    typeErr(/init.kaimingUniform: a must be a finite number, got string "fan_in"/),
  );
  assert.throws(() => jsf(nn.init.uniform)(nb.zeros([3]), { low: -1 }), typeErr(/uniform: unknown option "low"; it takes a, b, generator/));
  const u = nn.init.uniform(nb.zeros([1000]), { a: -3, b: -2 });
  assert.ok(u.data.every((v) => v >= -3 && v < -2));
});

test("class indices given as floats: the error says to make them int32; readers' uint8 labels become int32", () => {
  const F = nn.functional;
  const x = nb.randn([3, 5]);
  const floats = nb.tensor([0, 1, 2]);
  assert.equal(floats.dtype, "float32"); // PyTorch's rule for a JS number array: floating point
  for (const f of [() => F.crossEntropy(x, floats), () => new nn.CrossEntropyLoss().forward(x, floats), () => F.nllLoss(x, floats)])
    assert.throws(
      f,
      typeErr(
        /target \[3\] looks like class indices but is float32; class indices must be int32: nb\.tensor\(\[\.\.\.\], \{ dtype: "int32" \}\) or target\.int\(\)/,
      ),
    );
  const exact = F.crossEntropy(x, floats.int());
  assert.ok(Number.isFinite(exact.item()));
  // probabilities with the input's shape are still probabilities
  assert.ok(Number.isFinite(F.crossEntropy(x, nb.softmax(nb.randn([3, 5]), 1)).item()));
  const labels = nb.tensor(new Uint8Array([9, 0, 3]));
  assert.equal(labels.dtype, "int32");
  assert.deepEqual(Array.from(labels.data), [9, 0, 3]);
});
