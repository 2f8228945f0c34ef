// Optimizers and schedules against torch.optim 1.13 (fixtures/optim.json from scripts/fixtures/optim.py):
// 20-step trajectories of every first-order optimizer, LBFGS over 5 step calls, lr sequences over 100 epochs.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { fixturePath } from "./helpers.js";

type E = nb.testing.EncodedTensor;
interface Fx {
  init: Record<string, E>;
  X: E;
  Y: E;
  trajectories: Record<string, { options: Record<string, unknown>; steps: Record<string, E>[] }>;
  lbfgs: Record<string, { steps: Record<string, E>[]; losses: number[]; funcEvals: number }>;
  schedules: Record<string, { lr: number[]; momentum: number[]; metrics?: number[] }>;
}
const fx = nb.testing.loadJsonFixture<Fx>(fixturePath("optim.json"));
const O = nb.optim;
const S = nb.optim.lrScheduler;

/** The same MLP as the fixture script: Linear 4→6, tanh, Linear 6→3, with the fixture's initial weights. */
function makeNet(dtype: nb.DType) {
  const net = new nb.nn.Sequential(new nb.nn.Linear(4, 6, { dtype }), new nb.nn.Tanh(), new nb.nn.Linear(6, 3, { dtype }));
  // The fixture stores float32 values (9 significant digits): decode as float32, then widen exactly.
  net.loadStateDict(Object.fromEntries(Object.entries(fx.init).map(([k, v]) => [k, nb.testing.decodeTensor(v).to(dtype)])));
  const X = nb.testing.decodeTensor(fx.X).to(dtype);
  const Y = nb.testing.decodeTensor(fx.Y);
  const loss = () => nb.nn.functional.crossEntropy(net.forward(X), Y);
  return { net, loss };
}

/** camelCase options for each PyTorch option name used in the fixture. */
function camel(kw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kw).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

const classes: Record<string, new (p: any, o: any) => nb.optim.Optimizer<any>> = {
  sgd: O.SGD,
  adagrad: O.Adagrad,
  adadelta: O.Adadelta,
  rmsprop: O.RMSprop,
  adam: O.Adam,
  adamw: O.AdamW,
  nadam: O.NAdam,
  adamax: O.Adamax,
};

function makeOptimizer(name: string, net: nb.nn.Module, options: Record<string, unknown>): nb.optim.Optimizer<any> {
  if (name === "sgd_param_groups") {
    const [l0, , l2] = net.children();
    return new O.SGD([{ params: l0.parameters() }, { params: l2.parameters(), lr: 0.02 }], { lr: 0.2, momentum: 0.9 });
  }
  const cls = classes[name.split("_")[0]];
  return new cls(net.parameters(), camel(options));
}

const TOL_BY_DTYPE = { float32: { rtol: 1e-5, atol: 1e-6 }, float64: { rtol: 1e-10, atol: 1e-12 } } as const;

for (const [key, traj] of Object.entries(fx.trajectories)) {
  const [name, dtype] = key.split("/") as [string, "float32" | "float64"];
  test(`trajectory ${key}: 20 steps match torch.optim`, () => {
    const { net, loss } = makeNet(dtype);
    const opt = makeOptimizer(name, net, traj.options);
    traj.steps.forEach((expected, i) => {
      opt.zeroGrad();
      loss().backward();
      opt.step();
      const sd = net.stateDict();
      for (const [k, v] of Object.entries(expected)) {
        nb.testing.assertClose(sd[k], nb.testing.decodeTensor(v), { ...TOL_BY_DTYPE[dtype], msg: `${key} step ${i + 1} ${k}` });
      }
    });
  });
}

test("a stateDict taken mid-run, loaded into a fresh optimizer, continues the identical trajectory", () => {
  for (const [name, options] of [
    ["adam_amsgrad", { lr: 0.01, amsgrad: true }],
    ["sgd_nesterov", { lr: 0.1, momentum: 0.9, nesterov: true }],
    ["rmsprop_centered", { lr: 0.01, centered: true, momentum: 0.9 }],
    ["nadam", {}],
    ["adadelta", {}],
    ["adagrad", {}],
    ["adamax", {}],
  ] as const) {
    const a = makeNet("float64"),
      b = makeNet("float64");
    const optA = makeOptimizer(name, a.net, options);
    let optB = makeOptimizer(name, b.net, options);
    for (let i = 0; i < 10; i++) {
      for (const [o, l] of [
        [optA, a.loss],
        [optB, b.loss],
      ] as const) {
        o.zeroGrad();
        l().backward();
        o.step();
      }
    }
    const saved = JSON.parse(
      JSON.stringify(optB.stateDict(), (k, v) => (v instanceof nb.Tensor ? { shape: v.shape, data: [...v.data] } : v)),
    );
    // restore into a brand-new optimizer (tensors from the JSON snapshot)
    const revive = (v: any): any =>
      v && Array.isArray(v.data) && Array.isArray(v.shape) ? nb.tensor(v.data, { shape: v.shape, dtype: "float64" }) : v;
    for (const s of Object.values(saved.state) as Record<string, unknown>[]) for (const k of Object.keys(s)) s[k] = revive(s[k]);
    optB = makeOptimizer(name, b.net, options);
    optB.loadStateDict(saved);
    for (let i = 0; i < 10; i++) {
      for (const [o, l] of [
        [optA, a.loss],
        [optB, b.loss],
      ] as const) {
        o.zeroGrad();
        l().backward();
        o.step();
      }
    }
    for (const [k, v] of Object.entries(a.net.stateDict())) assert.deepEqual([...b.net.stateDict()[k].data], [...v.data], `${name} ${k}`);
  }
});

test("stateDict uses torch.optim's layout", () => {
  const { net, loss } = makeNet("float32");
  const opt = new O.Adam(net.parameters(), { lr: 0.01, weightDecay: 0.1 });
  loss().backward();
  opt.step();
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state).map(Number), [0, 1, 2, 3]);
  assert.deepEqual(Object.keys(sd.state[0]).sort(), ["exp_avg", "exp_avg_sq", "step"]);
  assert.equal(sd.state[0].step, 1);
  assert.deepEqual(sd.param_groups[0].params, [0, 1, 2, 3]);
  assert.equal(sd.param_groups[0].weight_decay, 0.1);
  assert.deepEqual(sd.param_groups[0].betas, [0.9, 0.999]);
});

for (const [ls, run] of Object.entries(fx.lbfgs)) {
  test(`LBFGS (lineSearchFn ${ls}) matches torch.optim.LBFGS over 5 step calls`, () => {
    const { net, loss } = makeNet("float64");
    const opt = new O.LBFGS(net.parameters(), { lr: 1, maxIter: 4, historySize: 10, lineSearchFn: ls === "None" ? null : "strong_wolfe" });
    const closure = () => {
      opt.zeroGrad();
      const l = loss();
      l.backward();
      return l;
    };
    run.steps.forEach((expected, i) => {
      const l = opt.step(closure);
      nb.testing.assertClose(l, run.losses[i], { rtol: 1e-9, msg: `loss at step ${i}` });
      const sd = net.stateDict();
      for (const [k, v] of Object.entries(expected))
        nb.testing.assertClose(sd[k], nb.testing.decodeTensor(v), { rtol: 1e-8, atol: 1e-10, msg: `LBFGS ${ls} step ${i + 1} ${k}` });
    });
    assert.equal((opt.state.get(net.parameters()[0]) as Record<string, number>).func_evals, run.funcEvals);
  });
}

const schedules: Record<string, (o: nb.optim.Optimizer<any>) => { step(m?: number): void }> = {
  step: (o) => new S.StepLR(o, 7, 0.5),
  multistep: (o) => new S.MultiStepLR(o, [10, 30, 30, 60], 0.3),
  exponential: (o) => new S.ExponentialLR(o, 0.97),
  cosine: (o) => new S.CosineAnnealingLR(o, 30, 0.001),
  linear_warmup: (o) => new S.LinearLR(o, 0.2, 1.0, 10),
  linear_default: (o) => new S.LinearLR(o),
  onecycle_cos_sgd: (o) => new S.OneCycleLR(o, 0.5, { totalSteps: 100 }),
  onecycle_linear_3phase_adam: (o) =>
    new S.OneCycleLR(o, 0.01, {
      epochs: 10,
      stepsPerEpoch: 10,
      annealStrategy: "linear",
      threePhase: true,
      pctStart: 0.25,
      divFactor: 10,
      finalDivFactor: 100,
    }),
  plateau_min_rel: (o) => new S.ReduceLROnPlateau(o, { mode: "min", factor: 0.5, patience: 3, threshold: 1e-2, cooldown: 2, minLr: 1e-3 }),
  plateau_max_abs_adam: (o) =>
    new S.ReduceLROnPlateau(o, { mode: "max", factor: 0.3, patience: 5, threshold: 0.005, thresholdMode: "abs" }),
};

for (const [name, expected] of Object.entries(fx.schedules)) {
  test(`schedule ${name}: 100 epochs of lr equal PyTorch's`, () => {
    const p = nb.zeros([1], { requiresGrad: true });
    const opt = name.includes("adam") ? new O.Adam([p], { lr: 0.01 }) : new O.SGD([p], { lr: 0.1, momentum: 0.9 });
    const sched = schedules[name](opt);
    const lrs: number[] = [],
      moms: number[] = [];
    for (let e = 0; e < 100; e++) {
      const g = opt.paramGroups[0] as Record<string, any>;
      lrs.push(g.lr);
      moms.push(g.betas ? g.betas[0] : g.momentum);
      opt.step();
      sched.step(expected.metrics?.[e]);
    }
    nb.testing.assertClose(lrs, expected.lr, { rtol: 1e-12, atol: 1e-15, msg: `${name} lr` });
    nb.testing.assertClose(moms, expected.momentum, { rtol: 1e-12, atol: 1e-15, msg: `${name} momentum` });
  });
}

test("invalid hyper-parameters are rejected with PyTorch's messages", () => {
  const p = [nb.zeros([1], { requiresGrad: true })];
  assert.throws(() => new O.SGD(p, { lr: -1 }), /Invalid learning rate: -1/);
  assert.throws(() => new O.SGD(p, { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening/);
  assert.throws(() => new O.SGD(p, { lr: 0.1, momentum: -0.5 }), /Invalid momentum value: -0.5/);
  assert.throws(() => new O.Adam(p, { betas: [1, 0.999] }), /Invalid beta parameter at index 0: 1/);
  assert.throws(() => new O.Adam(p, { betas: [0.9, -0.1] }), /Invalid beta parameter at index 1: -0.1/);
  assert.throws(() => new O.Adam(p, { eps: -1e-8 }), /Invalid epsilon value/);
  assert.throws(() => new O.AdamW(p, { weightDecay: -1 }), /Invalid weight_decay value: -1/);
  assert.throws(() => new O.Adadelta(p, { rho: 1.5 }), /Invalid rho value: 1.5/);
  assert.throws(() => new O.Adagrad(p, { lrDecay: -1 }), /Invalid lr_decay value/);
  assert.throws(() => new O.RMSprop(p, { alpha: -1 }), /Invalid alpha value/);
  assert.throws(() => new O.NAdam(p, { momentumDecay: -1 }), /Invalid momentum_decay value/);
  assert.throws(() => new O.SGD([...p, ...p], { lr: 0.1 }), /more than one parameter group/);
  assert.throws(() => new O.SGD([], { lr: 0.1 }), /empty parameter list/);
  assert.throws(() => new S.ReduceLROnPlateau(new O.SGD(p, { lr: 1 }), { factor: 1 }), /Factor should be < 1.0/);
  assert.throws(() => new O.LBFGS(p).step(), /requires a closure/);
});

test("every schedule resumes from a JSON round trip of its stateDict on PyTorch's lr sequence; another schedule's state is refused", () => {
  for (const [name, expected] of Object.entries(fx.schedules)) {
    const run = () => {
      const p = nb.zeros([1], { requiresGrad: true });
      const opt = name.includes("adam") ? new O.Adam([p], { lr: 0.01 }) : new O.SGD([p], { lr: 0.1, momentum: 0.9 });
      return {
        opt,
        sched: schedules[name](opt) as { step(m?: number): void } & Pick<nb.optim.lrScheduler.StepLR, "stateDict" | "loadStateDict">,
      };
    };
    let { opt, sched } = run();
    const lrs: number[] = [];
    for (let e = 0; e < 100; e++) {
      if (e === 37) {
        // a checkpoint: both state dicts through JSON (±Infinity becomes null), into a fresh optimizer and schedule
        const saved = JSON.parse(JSON.stringify({ o: opt.stateDict(), s: sched.stateDict() }));
        const fresh = run();
        fresh.opt.loadStateDict(saved.o);
        fresh.sched.loadStateDict(saved.s);
        ({ opt, sched } = fresh);
      }
      lrs.push(opt.paramGroups[0].lr);
      opt.step();
      sched.step(expected.metrics?.[e]);
    }
    nb.testing.assertClose(lrs, expected.lr, { rtol: 1e-12, atol: 1e-15, msg: `${name} lr after resuming` });
  }
  const opt = new O.SGD([nb.zeros([1], { requiresGrad: true })], { lr: 0.1 });
  const saved = JSON.parse(JSON.stringify(new S.StepLR(opt, 7, 0.5).stateDict()));
  assert.throws(
    () => new S.StepLR(opt, 3, 0.5).loadStateDict(saved),
    /StepLR\.loadStateDict: stepSize: 7 differs from this scheduler's configuration/,
  );
  const cyc = JSON.parse(JSON.stringify(new S.OneCycleLR(opt, 0.5, { totalSteps: 100 }).stateDict()));
  assert.throws(
    () => new S.OneCycleLR(opt, 0.5, { totalSteps: 100 }).loadStateDict({ ...cyc, totalSteps: -1567828838 }),
    /OneCycleLR\.loadStateDict: totalSteps: -1567828838 differs/,
  );
  assert.throws(() => new S.StepLR(opt, 7, 0.5).loadStateDict({ ...saved, lastEpoch: 2.5 }), /lastEpoch: 2\.5 is not an integer/);
});

test("optimizer state is refused unless its step() can use it: missing or stray buffers, wrong kinds; integer tensors take the parameter's dtype", () => {
  const { net, loss } = makeNet("float32");
  const trained = (name: string, options: Record<string, unknown>) => {
    const opt = makeOptimizer(name, net, options);
    opt.zeroGrad();
    loss().backward();
    opt.step();
    return opt;
  };
  const cases: [string, Record<string, unknown>, (s: Record<string, unknown>) => void, RegExp][] = [
    ["adam", {}, (s) => delete s.exp_avg_sq, /state\.0\.exp_avg_sq: missing \(Adam keeps step, exp_avg, exp_avg_sq with these settings\)/],
    ["adam_amsgrad", { amsgrad: true }, (s) => delete s.max_exp_avg_sq, /state\.0\.max_exp_avg_sq: missing/],
    ["adam", {}, (s) => (s.extra = 1), /state\.0\.extra: is not a state of Adam/],
    ["rmsprop_centered", { centered: true, momentum: 0.9 }, (s) => (s.square_avg = []), /state\.0\.square_avg: must be a tensor/],
    [
      "sgd_nesterov",
      { lr: 0.1, momentum: 0.9, nesterov: true },
      (s) => (s.momentum_buffer = null),
      /state\.0\.momentum_buffer: must be a tensor/,
    ],
    ["nadam", {}, (s) => delete s.mu_product, /state\.0\.mu_product: missing/],
    ["adadelta", {}, (s) => (s.step = 1.5), /state\.0\.step: 1\.5 is not a non-negative integer/],
  ];
  for (const [name, options, edit, re] of cases) {
    const sd = trained(name, options).stateDict();
    edit(sd.state[0] as Record<string, unknown>);
    const fresh = makeOptimizer(name, net, options);
    assert.throws(
      () => fresh.loadStateDict(sd),
      (e: Error) => e.name === "StateDictError" && re.test(e.message),
      `${name}: ${re}`,
    );
    assert.equal(fresh.state.size, 0, `${name}: nothing applied`);
  }
  // SGD without momentum: PyTorch's momentum_buffer None is accepted
  const plain = makeOptimizer("sgd", net, { lr: 0.1 });
  plain.loadStateDict({ state: { 0: { momentum_buffer: null } }, param_groups: plain.stateDict().param_groups });
  // an int32 exp_avg (e.g. written by another tool) is cast to the parameter's float32, as PyTorch casts state to the parameter
  const sd = trained("adam", {}).stateDict();
  const p0 = net.parameters()[0];
  (sd.state[0] as Record<string, unknown>).exp_avg = nb.ones(p0.shape, { dtype: "int32" });
  const fresh = makeOptimizer("adam", net, {});
  fresh.loadStateDict(sd);
  const ea = (fresh.state.get(p0) as Record<string, nb.Tensor>).exp_avg;
  assert.equal(ea.dtype, "float32");
  // the rate a schedule restarts from is a learning rate too
  const neg = trained("adam", {}).stateDict();
  neg.param_groups[0].initial_lr = -1;
  assert.throws(() => makeOptimizer("adam", net, {}).loadStateDict(neg), /param_groups\.0\.initial_lr: Invalid learning rate: -1/);
  assert.ok([...ea.data].every((v) => v === 1));
});

test("LBFGS resumes from its stateDict on the same trajectory; a truncated curvature history is refused", () => {
  const a = makeNet("float64"),
    b = makeNet("float64");
  const make = (net: nb.nn.Module) => new O.LBFGS(net.parameters(), { lr: 1, maxIter: 4, historySize: 5 });
  const closure = (o: nb.optim.Optimizer<any>, l: () => nb.Tensor) => () => {
    o.zeroGrad();
    const v = l();
    v.backward();
    return v;
  };
  const optA = make(a.net);
  let optB = make(b.net);
  for (let i = 0; i < 3; i++) {
    optA.step(closure(optA, a.loss));
    optB.step(closure(optB, b.loss));
  }
  const sd = optB.stateDict();
  const broken = { ...sd, state: { 0: { ...(sd.state[0] as Record<string, unknown>) } } };
  (broken.state[0] as Record<string, unknown[]>).ro = (sd.state[0] as Record<string, unknown[]>).ro.slice(1);
  assert.throws(() => make(b.net).loadStateDict(broken), /state\.0\.ro: must be one finite number per pair in old_dirs/);
  optB = make(b.net);
  optB.loadStateDict(sd);
  for (let i = 0; i < 3; i++) {
    optA.step(closure(optA, a.loss));
    optB.step(closure(optB, b.loss));
  }
  for (const [k, v] of Object.entries(a.net.stateDict())) assert.deepEqual([...b.net.stateDict()[k].data], [...v.data], k);
});
