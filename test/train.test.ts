// The training loop: regimes, exact resume, killed checkpoint writes, early stopping, clipping, L-BFGS,
// schedulers, the metrics log and top-k accuracy.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { ROOT } from "./helpers.js";

/** A small separable 3-class problem: 96 points in 4-D around three centres. */
function blobs(seed = 0) {
  const g = new nb.Generator(seed);
  const centres = [
    [2, 0, 0, 1],
    [-2, 1, 0, 0],
    [0, -2, 2, 0],
  ];
  const x = new Float32Array(96 * 4),
    y = new Int32Array(96);
  for (let i = 0; i < 96; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = centres[y[i]][j] + 0.7 * g.normal();
  }
  return new nb.data.TensorDataset(nb.tensor(x, { shape: [96, 4] }), nb.tensor(y));
}

function setup(seed: number, batchSize: number, opt: "sgd" | "adam" | "lbfgs" = "adam", lr = 0.1) {
  nb.manualSeed(seed);
  const model = new nb.nn.Sequential(new nb.nn.Linear(4, 16), new nb.nn.ReLU(), new nb.nn.Dropout(0.1), new nb.nn.Linear(16, 3));
  const optimizer =
    opt === "sgd"
      ? new nb.optim.SGD(model.parameters(), { lr })
      : opt === "lbfgs"
        ? new nb.optim.LBFGS(model.parameters(), { maxIter: 5, lineSearchFn: "strong_wolfe" })
        : new nb.optim.Adam(model.parameters(), { lr: 1e-2 });
  const trainLoader = new nb.data.DataLoader(blobs(), { batchSize, shuffle: true, generator: new nb.Generator(seed + 100) });
  return { model, optimizer, trainLoader };
}

test("the three regimes: steps per epoch are 1, m and ⌈m/b⌉, and all three fit the data", () => {
  // step sizes shrink with the batch: a single sample's gradient is noisy
  for (const [b, steps, lr] of [
    [96, 1, 0.5],
    [1, 96, 0.01],
    [16, 6, 0.1],
  ] as const) {
    const s = setup(0, b, "sgd", lr);
    let batches = 0;
    const r = nb.train.fit({
      ...s,
      epochs: b === 96 ? 60 : 5,
      onBatch: (i) => {
        if (i.epoch === 1) batches++;
      },
    });
    assert.equal(batches, steps, `batch size ${b}`);
    const last = r.history[r.history.length - 1];
    assert.ok(last.trainLoss < r.history[0].trainLoss && last.trainAcc > 0.9, `batch size ${b}: ${JSON.stringify(last)}`);
  }
});

test("a run interrupted after epoch 2 and resumed gives exactly the uninterrupted run's epoch-3 loss", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-resume-"));
  const full = setup(7, 16);
  const a = nb.train.fit({ ...full, epochs: 3, valLoader: new nb.data.DataLoader(blobs(1), { batchSize: 32 }) });
  const first = setup(7, 16);
  nb.train.fit({ ...first, epochs: 2, checkpoint: join(dir, "ckpt.safetensors") });
  // a fresh process would build everything anew: different seed, the checkpoint restores all state
  const resumed = setup(12345, 16);
  const b = nb.train.fit({
    ...resumed,
    epochs: 3,
    resume: join(dir, "ckpt.safetensors"),
    valLoader: new nb.data.DataLoader(blobs(1), { batchSize: 32 }),
  });
  assert.equal(b.startEpoch, 2);
  assert.equal(b.history.length, 3);
  assert.equal(b.history[2].trainLoss, a.history[2].trainLoss);
  assert.equal(b.history[2].valLoss, a.history[2].valLoss);
  for (const [k, v] of Object.entries(full.model.stateDict())) assert.deepEqual([...resumed.model.stateDict()[k].data], [...v.data], k);
});

test("a checkpoint write killed midway leaves the previous checkpoint intact", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-ckpt-"));
  const path = join(dir, "ckpt.safetensors");
  const s = setup(1, 16);
  nb.train.saveCheckpoint(path, { model: s.model, optimizer: s.optimizer, epoch: 4 });
  // the writer is killed at the one moment that matters, deterministically: its new file is fully written
  // and synced but not yet renamed over the old one (renameSync is replaced by a SIGKILL of the process)
  const script = join(dir, "writer.mjs");
  writeFileSync(
    script,
    `import fs from "node:fs";
    import { syncBuiltinESMExports } from "node:module";
    fs.renameSync = () => process.kill(process.pid, "SIGKILL");
    syncBuiltinESMExports();
    const nb = await import(${JSON.stringify(join(ROOT, "dist", "index.js"))});
    nb.train.saveCheckpoint(${JSON.stringify(path)}, { model: new nb.nn.Linear(300, 300), epoch: 5 });`,
  );
  const writer = spawnSync(process.execPath, [script], { encoding: "utf8" });
  assert.equal(writer.signal, "SIGKILL", `the writer was to be killed before its rename: ${writer.stderr}`);
  assert.ok(
    readdirSync(dir).some((f) => f.endsWith(".tmp")),
    "the killed writer left its temporary file",
  );
  const fresh = setup(99, 16);
  const r = nb.train.loadCheckpoint(path, { model: fresh.model, optimizer: fresh.optimizer });
  assert.equal(r.epoch, 4);
  for (const [k, v] of Object.entries(s.model.stateDict())) assert.deepEqual([...fresh.model.stateDict()[k].data], [...v.data], k);
  // the next write removes the dead writer's temporary file
  nb.train.saveCheckpoint(path, { model: s.model, optimizer: s.optimizer, epoch: 6 });
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith(".tmp")),
    [],
    "the orphaned temporary file is removed",
  );
});

test("early stopping, gradient clipping, schedulers (plateau on validation loss), metrics log, top-k", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-fit-"));
  const s = setup(3, 16);
  const sched = new nb.optim.lrScheduler.ReduceLROnPlateau(s.optimizer, { patience: 0, factor: 0.5, threshold: 0.5 });
  const log = join(dir, "metrics.jsonl");
  const r = nb.train.fit({
    ...s,
    epochs: 30,
    valLoader: new nb.data.DataLoader(blobs(2), { batchSize: 96 }),
    scheduler: sched,
    clipGradNorm: 0.5,
    earlyStopping: { patience: 2, minDelta: 1e-3 },
    metricsLog: log,
    topk: [1, 2],
  });
  assert.ok(r.stoppedEarly && r.history.length < 30, `ran ${r.history.length} epochs`);
  assert.ok(r.history[r.history.length - 1].lr < 1e-2, "plateau scheduler lowered the rate");
  const lines = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, r.history.length);
  assert.ok(
    lines.every((l) => l.valAcc["2"] >= l.valAcc["1"]),
    "top-2 ≥ top-1",
  );
  assert.ok(lines[lines.length - 1].valAcc["1"] > 0.9);
});

test("evaluate: top-k accuracy counts a label among the k largest logits", () => {
  const model = new (class extends nb.nn.Module {
    forward(x: nb.Tensor) {
      return x;
    }
  })();
  const x = nb.tensor([
    [0.1, 0.5, 0.4],
    [0.9, 0.02, 0.08],
    [0.2, 0.3, 0.5],
  ]);
  const y = nb.tensor([2, 1, 2], { dtype: "int32" });
  const r = nb.train.evaluate(model, new nb.data.DataLoader(new nb.data.TensorDataset(x, y), { batchSize: 2 }), { topk: [1, 2, 3] });
  assert.deepEqual(r.acc, { 1: 1 / 3, 2: 2 / 3, 3: 1 });
});

test("L-BFGS trains through its closure", () => {
  const s = setup(4, 96, "lbfgs");
  const r = nb.train.fit({ ...s, epochs: 5 });
  assert.ok(r.history[4].trainLoss < 0.3 * r.history[0].trainLoss, JSON.stringify(r.history.map((h) => h.trainLoss)));
});

test("clipGradNorm scales gradients to the requested global norm", () => {
  const a = nb.tensor([3, 0], { requiresGrad: true }),
    b = nb.tensor([4], { requiresGrad: true });
  nb.add(a.sum().mul(0), nb.dot(a, nb.tensor([3, 0])))
    .add(b.mul(4).sum())
    .backward();
  const norm = nb.nn.utils.clipGradNorm([a, b], 1);
  assert.equal(norm, 5);
  nb.testing.assertClose([...a.grad!.data, ...b.grad!.data], [3 / (5 + 1e-6), 0, 4 / (5 + 1e-6)], { rtol: 1e-6 });
});

test("NaN is never correct: all-NaN logits score 0 % top-k; a NaN elsewhere in a row ranks above the label (torch.topk)", () => {
  const model = new nb.nn.Linear(2, 3);
  nb.noGrad(() => model.weight.data.fill(Number.NaN));
  const ds = new nb.data.TensorDataset(nb.ones([6, 2]), nb.tensor([0, 1, 2, 0, 1, 2], { dtype: "int32" }));
  const r = nb.train.evaluate(model, new nb.data.DataLoader(ds, { batchSize: 4 }), { topk: [1, 3] });
  assert.equal(r.acc[1], 0);
  assert.equal(r.acc[3], 0);
  assert.ok(Number.isNaN(r.loss));
  // one NaN beside a finite label logit: it takes a top slot
  const lin = new nb.nn.Linear(1, 3, { bias: true });
  nb.noGrad(() => {
    lin.weight.data.fill(0);
    lin.bias!.data.set([Number.NaN, 2, 1]);
  });
  const one = new nb.data.TensorDataset(nb.ones([1, 1]), nb.tensor([1], { dtype: "int32" }));
  const t = nb.train.evaluate(lin, new nb.data.DataLoader(one, { batchSize: 1 }), { topk: [1, 2] });
  assert.deepEqual([t.acc[1], t.acc[2]], [0, 1]);
});

test("fit stops with a clear error on a non-finite loss (before that step), unless allowNonFiniteLoss", () => {
  const s = setup(5, 16, "sgd", 1e308);
  const before = s.model.parameters().map((p) => Float32Array.from(p.data));
  assert.throws(
    () => nb.train.fit({ ...s, epochs: 2 }),
    /fit: the training loss is (NaN|Infinity) at epoch 1, batch \d+: training has diverged/,
  );
  assert.ok(
    s.model.parameters().some((p, i) => p.data.some((v, j) => v !== before[i][j])),
    "the steps before the divergence ran",
  );
  const t = setup(5, 16, "sgd", 1e308);
  const r = nb.train.fit({ ...t, epochs: 1, allowNonFiniteLoss: true });
  assert.ok(!Number.isFinite(r.history[0].trainLoss));
});

test("an empty training set or evaluation set is an error", () => {
  const empty = new nb.data.TensorDataset(nb.zeros([0, 4]), nb.zeros([0], { dtype: "int32" }));
  const s = setup(1, 16);
  assert.throws(
    () => nb.train.fit({ ...s, trainLoader: new nb.data.DataLoader(empty, { batchSize: 4 }), epochs: 1 }),
    /fit: the training loader yields no batches/,
  );
  assert.throws(
    () => nb.train.evaluate(s.model, new nb.data.DataLoader(empty, { batchSize: 4 })),
    /evaluate: the loader yielded no samples/,
  );
});

test("loadCheckpoint checks every section against what it restores; errors name the file and the path inside it", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-ckpt-schema-"));
  const good = join(dir, "good.safetensors");
  const s = setup(2, 16);
  const sched = new nb.optim.lrScheduler.StepLR(s.optimizer, 2);
  nb.train.fit({ ...s, epochs: 1, scheduler: sched });
  nb.train.saveCheckpoint(good, {
    model: s.model,
    optimizer: s.optimizer,
    scheduler: sched,
    generators: { data: s.trainLoader.generator! },
    epoch: 1,
  });
  const restoreInto = (file: string) => {
    const t = setup(3, 16);
    const sc = new nb.optim.lrScheduler.StepLR(t.optimizer, 2);
    return nb.train.loadCheckpoint(file, {
      model: t.model,
      optimizer: t.optimizer,
      scheduler: sc,
      generators: { data: t.trainLoader.generator! },
    });
  };
  assert.equal(restoreInto(good).epoch, 1);
  /** A copy of the good checkpoint with its tensors and metadata changed by `edit`. */
  const mutate = (name: string, edit: (t: Record<string, nb.Tensor>, m: Record<string, string>) => void): string => {
    const { tensors, metadata } = nb.io.loadSafetensorsFile(good);
    const t = { ...tensors },
      m = { ...metadata };
    edit(t, m);
    const p = join(dir, `${name}.safetensors`);
    nb.io.saveSafetensors(p, t, m);
    return p;
  };
  const expectError = (file: string, re: RegExp) =>
    assert.throws(
      () => restoreInto(file),
      (e: Error) => e.name === "CheckpointError" && e.message.startsWith(file) && re.test(e.message),
    );
  expectError(
    mutate("moment-shape", (t) => (t["optimizer.state.0.exp_avg"] = nb.zeros([1]))),
    /optimizer\.state\.0\.exp_avg: shape \[1\] but parameter is \[16, 4\]/,
  );
  expectError(
    mutate("dangling", (t) => delete t["optimizer.state.1.exp_avg_sq"]),
    /optimizer\.state\.1\.exp_avg_sq: refers to tensor "optimizer\.state\.1\.exp_avg_sq", which the file does not have/,
  );
  expectError(
    mutate("epoch-nan", (_, m) => (m.epoch = "NaN")),
    /epoch: "NaN" is not a non-negative integer/,
  );
  const optim =
    (f: (o: { state: Record<string, Record<string, unknown>>; param_groups: Record<string, unknown>[] }) => void) =>
    (_: unknown, m: Record<string, string>) => {
      const o = JSON.parse(m.optimizer);
      f(o);
      m.optimizer = JSON.stringify(o);
    };
  expectError(
    mutate(
      "lr-negative",
      optim((o) => (o.param_groups[0].lr = -1)),
    ),
    /optimizer\.param_groups\.0: Invalid learning rate: -1/,
  );
  expectError(
    mutate(
      "lr-string",
      optim((o) => (o.param_groups[0].lr = "0.1")),
    ),
    /optimizer\.param_groups\.0\.lr: "0\.1" does not have the type of the current value/,
  );
  expectError(
    mutate(
      "unknown-hyper",
      optim((o) => (o.param_groups[0].momentum = 0.9)),
    ),
    /optimizer\.param_groups\.0\.momentum: unknown hyper-parameter for Adam/,
  );
  expectError(
    mutate(
      "step-fraction",
      optim((o) => (o.state["0"].step = 2.5)),
    ),
    /optimizer\.state\.0\.step: 2\.5 is not a non-negative integer/,
  );
  const schedEdit = (f: (sd: Record<string, unknown>) => void) => (_: unknown, m: Record<string, string>) => {
    const sd = JSON.parse(m.scheduler);
    f(sd);
    m.scheduler = JSON.stringify(sd);
  };
  expectError(
    mutate(
      "sched-step",
      schedEdit((sd) => (sd.step = 1)),
    ),
    /scheduler\.step: unknown key/,
  );
  expectError(
    mutate(
      "sched-optimizer",
      schedEdit((sd) => (sd.optimizer = {})),
    ),
    /scheduler\.optimizer: unknown key/,
  );
  expectError(
    mutate(
      "sched-epoch",
      schedEdit((sd) => (sd.lastEpoch = "x")),
    ),
    /scheduler\.lastEpoch: "x" is not a finite number/,
  );
  expectError(
    mutate("generator", (_, m) => (m.generators = JSON.stringify({ data: [1.5, 2, null] }))),
    /generators\.data: Generator\.setState: word 0 must be an integer in \[0, 2\^32\), got 1\.5/,
  );
  expectError(
    mutate("bad-json", (_, m) => (m.extra = "{")),
    /extra: is not valid JSON/,
  );
  expectError(
    mutate("stray-tensor", (t) => (t["evil"] = nb.zeros([1]))),
    /evil: a tensor outside the model and optimizer sections/,
  );
});

test("ReduceLROnPlateau restored before its first improvement keeps 'no best yet' (JSON writes ±Infinity as null)", () => {
  const s = setup(4, 16);
  const p = new nb.optim.lrScheduler.ReduceLROnPlateau(s.optimizer, { patience: 0 });
  const sd = JSON.parse(JSON.stringify(p.stateDict()));
  assert.equal(sd.best, null);
  const q = new nb.optim.lrScheduler.ReduceLROnPlateau(s.optimizer, { patience: 0 });
  q.loadStateDict(sd);
  assert.equal(q.best, Infinity);
  const lr = s.optimizer.paramGroups[0].lr;
  q.step(5); // an improvement on "no best": the rate stays
  assert.equal(s.optimizer.paramGroups[0].lr, lr);
});

test("the metrics log holds each epoch once: a fresh run starts it anew, a resume rewrites it from the checkpoint", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-metrics-"));
  const log = join(dir, "metrics.jsonl"),
    ckpt = join(dir, "ckpt.safetensors");
  const epochs = () =>
    readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).epoch);
  nb.train.fit({ ...setup(1, 32), epochs: 2, metricsLog: log, checkpoint: ckpt });
  assert.deepEqual(epochs(), [1, 2]);
  // a run killed after logging epoch 3 but before its checkpoint
  writeFileSync(log, readFileSync(log, "utf8") + JSON.stringify({ epoch: 3, trainLoss: 0 }) + "\n");
  nb.train.fit({ ...setup(1, 32), epochs: 4, metricsLog: log, checkpoint: ckpt, resume: ckpt });
  assert.deepEqual(epochs(), [1, 2, 3, 4]);
  nb.train.fit({ ...setup(2, 32), epochs: 1, metricsLog: log });
  assert.deepEqual(epochs(), [1], "a fresh run starts a new log");
});
