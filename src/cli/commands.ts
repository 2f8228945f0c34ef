// The `nabla` command line: train, eval, export, lab, models, summary (main.ts is the executable that runs it).

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as nb from "../index.js";
import { helpText, parseArgs, UsageError, type FlagSpec } from "./args.js";
import { Progress } from "./progress.js";
import { preview } from "../optim/optimizer.js";
import { closest } from "../ops/args.js";
import { writeFileAtomic } from "../io/safetensors.js";
import { trainingCurveSvg } from "./curve.js";
import { labCmd, labHelp, labUsage } from "./lab.js";

const DATASETS = ["fashion-mnist", "mnist", "cifar10"];
const OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "adamw", "nadam", "adamax", "rmsprop", "adagrad", "adadelta", "lbfgs"];
const SCHEDULERS = ["none", "step", "cosine", "plateau", "onecycle"];
/** Each optimizer's own learning rate (PyTorch's default where it has one; SGD has none, 0.01 is the common choice). */
const DEFAULT_LR: Record<string, number> = {
  sgd: 0.01,
  momentum: 0.01,
  nesterov: 0.01,
  adam: 1e-3,
  adamw: 1e-3,
  nadam: 2e-3,
  adamax: 2e-3,
  rmsprop: 1e-2,
  adagrad: 1e-2,
  adadelta: 1,
  lbfgs: 1,
};

const trainSpecs: Record<string, FlagSpec> = {
  model: { type: "string", default: "lenet5", metavar: "NAME", help: "model name (see `nabla models`)" },
  dataset: { type: "string", default: "fashion-mnist", choices: DATASETS, help: "dataset" },
  data: {
    type: "string",
    metavar: "DIR",
    help: "dataset folder (default: /usr/share/datasets/fashion-mnist if installed, else the shipped slice)",
  },
  optimizer: { type: "string", default: "adam", choices: OPTIMIZERS, help: "optimizer" },
  lr: { type: "number", help: "learning rate (default: the optimizer's own, e.g. adam 0.001, sgd 0.01, lbfgs 1)" },
  momentum: { type: "number", help: "momentum (momentum, nesterov: default 0.9; rmsprop: default 0)" },
  "weight-decay": { type: "number", help: "weight decay (default 0; adamw 0.01, PyTorch's)" },
  "batch-size": { type: "int", default: 64, help: "batch size" },
  epochs: { type: "int", default: 5, help: "epochs" },
  scheduler: { type: "string", default: "none", choices: SCHEDULERS, help: "learning-rate schedule (plateau: on validation loss)" },
  "val-split": {
    type: "number",
    default: 0.1,
    help: "fraction of the training images held out for validation (early stopping, plateau); 0: none",
  },
  "clip-grad-norm": { type: "number", help: "clip the global gradient norm" },
  "early-stopping": { type: "int", help: "stop after this many epochs without validation improvement" },
  "batch-norm": { type: "boolean", help: "lenet5 only: BatchNorm after each conv / hidden layer" },
  limit: { type: "int", help: "use only the first N training images" },
  seed: { type: "int", default: 0, help: "random seed (initialization, shuffling, dropout)" },
  resume: { type: "string", metavar: "FILE", help: "continue from this checkpoint" },
  out: { type: "string", metavar: "DIR", help: "output folder for the checkpoint, metrics and curve (default runs/MODEL)" },
};
const evalSpecs: Record<string, FlagSpec> = {
  checkpoint: { type: "string", metavar: "FILE", help: "checkpoint written by `nabla train` (required)" },
  data: { type: "string", metavar: "DIR", help: "dataset folder (default: the one recorded in the checkpoint)" },
  "batch-size": { type: "int", default: 256, help: "batch size" },
};
const modelsSpecs: Record<string, FlagSpec> = {
  "mult-adds": {
    type: "boolean",
    help: "also the multiply-accumulates of one image at the model's reference input (runs each model once)",
  },
};

const summarySpecs: Record<string, FlagSpec> = {
  input: { type: "string", metavar: "CxHxW", default: "3x224x224", help: "input shape CxHxW" },
  "num-classes": { type: "int", help: "output classes (default: the model's; 1000, or 10 for lenet5 / convnet_bn)" },
  "small-input": { type: "boolean", help: "the small-input variant (ResNet / ResNeXt / DenseNet / VGG)" },
};

const exportSpecs: Record<string, FlagSpec> = {
  model: { type: "string", metavar: "NAME", help: "a zoo model, freshly initialized with --seed (or --checkpoint)" },
  checkpoint: { type: "string", metavar: "FILE", help: "a checkpoint written by `nabla train` (or --model)" },
  format: { type: "string", default: "onnx", choices: ["onnx"], help: "output format" },
  out: { type: "string", metavar: "FILE", help: "output file (required)" },
  input: {
    type: "string",
    metavar: "CxHxW",
    help: "one image's shape (default: the checkpoint's dataset, or the model's reference input)",
  },
  "num-classes": { type: "int", help: "--model only: output classes (default: the model's)" },
  batch: { type: "int", help: "a fixed batch size (default: any, the first dimension is symbolic)" },
  opset: { type: "int", default: 17, help: "ONNX opset (13–17)" },
  seed: { type: "int", default: 0, help: "--model only: the initialization's seed" },
};

const HELP = `nabla — deep learning for TypeScript

Usage: nabla <command> [options]

Commands:
  train     train a model on Fashion-MNIST, MNIST or CIFAR-10
  eval      evaluate a checkpoint on the test split
  export    write a model or a checkpoint as an ONNX file (onnxruntime, Netron, Triton)
  lab       the primer's claims as experiments: lab list, lab run ID
  models    list the model zoo with parameter counts
  summary   per-layer output shapes, parameters and multiply-accumulates of a model

Run \`nabla help <command>\` (or \`nabla <command> --help\`) for the options of each command;
\`nabla --version\` prints the version.`;

/** The package's version, from its package.json (two folders above this file in dist/ and in the test build). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "nabla") return pkg.version ?? "unknown";
    }
  }
  return "unknown";
}

/** `unknown model 'x'`, with the closest names. */
function unknownModel(name: string): UsageError {
  const names = nb.models.list();
  const near = closest(name, names);
  const prefix = names.filter((n) => n !== near && name.length >= 3 && n.startsWith(name.slice(0, Math.max(3, name.length - 2))));
  const hints = [...(near ? [near] : []), ...prefix].slice(0, 4);
  return new UsageError(`unknown model '${name}'${hints.length ? ` (did you mean ${hints.join(", ")}?)` : ""}; see nabla models`);
}

const SMALL_INPUT = /^(resnet|resnext|preact|densenet|vgg)/;

function modelOptions(name: string, channels: number, numClasses: number, size: number, batchNorm: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = { inChannels: channels, numClasses };
  if (SMALL_INPUT.test(name) && size <= 32) o.smallInput = true;
  if (name === "lenet5" && batchNorm) o.batchNorm = true;
  return o;
}

function loadDataset(dataset: string, dir: string | undefined, split: "train" | "test"): nb.data.ImageDataset {
  if (dataset === "cifar10") {
    if (!dir) throw new UsageError("--data DIR is required for cifar10 (the folder with data_batch_*.bin)");
    return nb.data.cifar10(dir, split);
  }
  if (dataset === "mnist" && !dir) throw new UsageError("--data DIR is required for mnist");
  return nb.data.mnistFormat(dir ?? nb.data.defaultFashionMnistDir(), split);
}

function makeOptimizer(name: string, params: nb.Tensor[], f: Record<string, any>): nb.optim.Optimizer<any> {
  const wd = f["weight-decay"] ?? (name === "adamw" ? 1e-2 : 0),
    lr = f.lr ?? DEFAULT_LR[name];
  switch (name) {
    case "sgd":
      return new nb.optim.SGD(params, { lr, weightDecay: wd });
    case "momentum":
      return new nb.optim.SGD(params, { lr, momentum: f.momentum ?? 0.9, weightDecay: wd });
    case "nesterov":
      return new nb.optim.SGD(params, { lr, momentum: f.momentum ?? 0.9, nesterov: true, weightDecay: wd });
    case "adam":
      return new nb.optim.Adam(params, { lr, weightDecay: wd });
    case "adamw":
      return new nb.optim.AdamW(params, { lr, weightDecay: wd });
    case "nadam":
      return new nb.optim.NAdam(params, { lr, weightDecay: wd });
    case "adamax":
      return new nb.optim.Adamax(params, { lr, weightDecay: wd });
    case "rmsprop":
      return new nb.optim.RMSprop(params, { lr, momentum: f.momentum ?? 0, weightDecay: wd });
    case "adagrad":
      return new nb.optim.Adagrad(params, { lr, weightDecay: wd });
    case "adadelta":
      return new nb.optim.Adadelta(params, { lr, weightDecay: wd });
    default:
      // one iteration per mini-batch with a strong-Wolfe line search, so the step length adapts to the batch
      return new nb.optim.LBFGS(params, { lr, maxIter: 1, historySize: 10, lineSearchFn: "strong_wolfe" });
  }
}

function makeScheduler(name: string, opt: nb.optim.Optimizer<any>, epochs: number, stepsPerEpoch: number, lr: number) {
  const S = nb.optim.lrScheduler;
  switch (name) {
    case "step":
      return new S.StepLR(opt, Math.max(1, Math.floor(epochs / 3)), 0.1);
    case "cosine":
      return new S.CosineAnnealingLR(opt, epochs);
    case "plateau":
      return new S.ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
    case "onecycle":
      return new S.OneCycleLR(opt, lr * 10, { epochs, stepsPerEpoch });
    default:
      return null;
  }
}

/**
 * Hold out `fraction` of `set` for validation: a permutation fixed by the set's size alone (not --seed), so a
 * resumed run validates on the same images. Returns [train, validation].
 */
function splitValidation(set: nb.data.Dataset, fraction: number): [nb.data.Dataset, nb.data.Dataset | null] {
  const nVal = Math.round(set.length * fraction);
  if (nVal === 0) return [set, null];
  if (nVal >= set.length) throw new UsageError(`--val-split ${fraction} leaves no training images (of ${set.length})`);
  const perm = nb.randperm(set.length, { generator: new nb.Generator(set.length) }).data as Int32Array;
  const val = perm.slice(0, nVal).sort();
  const train = perm.slice(nVal).sort();
  return [new nb.data.Subset(set, train), new nb.data.Subset(set, val)];
}

function train(argv: string[]): void {
  const { flags: f } = parseArgs(argv, trainSpecs);
  if (!nb.models.list().includes(f.model)) throw unknownModel(f.model);
  if (f.data && !existsSync(f.data)) throw new UsageError(`--data ${f.data}: no such folder`);
  if (f.resume && !existsSync(f.resume)) throw new UsageError(`--resume ${f.resume}: no such file`);
  for (const k of ["lr", "batch-size", "epochs"])
    if (f[k] !== undefined && !(f[k] > 0)) throw new UsageError(`--${k} must be positive, got ${f[k]}`);
  if (f.momentum !== undefined && !["momentum", "nesterov", "rmsprop"].includes(f.optimizer))
    throw new UsageError(`--momentum applies to --optimizer momentum, nesterov or rmsprop, not ${f.optimizer}`);
  if (f.optimizer === "lbfgs" && f["weight-decay"] !== undefined)
    throw new UsageError("--weight-decay does not apply to lbfgs (it has no weight decay; PyTorch's LBFGS neither)");
  if (!(f["val-split"] >= 0 && f["val-split"] < 1)) throw new UsageError(`--val-split must be in [0, 1), got ${f["val-split"]}`);
  if (f["val-split"] === 0 && (f.scheduler === "plateau" || f["early-stopping"]))
    throw new UsageError(
      `--${f.scheduler === "plateau" ? "scheduler plateau" : "early-stopping"} needs a validation split (--val-split > 0)`,
    );
  nb.manualSeed(f.seed);
  const rawTrain = loadDataset(f.dataset, f.data, "train");
  // standardize every channel with the training set's statistics (recorded in the checkpoint for eval)
  let stats: nb.data.Standardize;
  try {
    stats = nb.data.channelStats(rawTrain.set);
  } catch (e) {
    throw new UsageError(`the ${f.dataset} training images in ${f.data ?? "the default folder"}: ${(e as Error).message}`);
  }
  let trainSet: nb.data.Dataset = rawTrain.withStandardization(stats);
  const testSet = loadDataset(f.dataset, f.data, "test").withStandardization(stats);
  const { channels, height } = rawTrain.set;
  if (f.limit)
    trainSet = new nb.data.Subset(
      trainSet,
      Int32Array.from({ length: Math.min(f.limit, trainSet.length) }, (_, i) => i),
    );
  // validation comes from the training images: the test split is only looked at once, at the end
  const [fitSet, valSet] = splitValidation(trainSet, f["val-split"]);
  const opts = modelOptions(f.model, channels, 10, height, f["batch-norm"]);
  const model = nb.models.get(f.model, opts);
  const optimizer = makeOptimizer(f.optimizer, model.parameters(), f);
  const lr = f.lr ?? DEFAULT_LR[f.optimizer];
  const gen = new nb.Generator(f.seed);
  const trainLoader = new nb.data.DataLoader(fitSet, { batchSize: f["batch-size"], shuffle: true, generator: gen });
  const valLoader = valSet ? new nb.data.DataLoader(valSet, { batchSize: 500 }) : null;
  const testLoader = new nb.data.DataLoader(testSet, { batchSize: 500 });
  const scheduler = makeScheduler(f.scheduler, optimizer, f.epochs, trainLoader.length, lr);
  const out = f.out ?? join("runs", f.model);
  const ckpt = join(out, "checkpoint.safetensors");
  const metrics = join(out, "metrics.jsonl");
  const curve = join(out, "training-curve.svg");
  if (f.resume) {
    const epoch = Number(nb.io.loadSafetensorsFile(f.resume).metadata.epoch);
    if (epoch >= f.epochs) {
      console.log(`nothing to do: ${f.resume} is at epoch ${epoch} and --epochs is ${f.epochs} (raise --epochs to train on)`);
      return;
    }
  }
  mkdirSync(out, { recursive: true });
  const dataDir = f.data ?? (f.dataset === "fashion-mnist" ? nb.data.defaultFashionMnistDir() : undefined);
  console.log(
    `nabla train: ${f.model} (${model
      .parameters()
      .reduce((a, p) => a + p.data.length, 0)
      .toLocaleString("en-US")} parameters) on ${f.dataset} from ${dataDir}: ` +
      `${fitSet.length} training / ${valSet?.length ?? 0} validation / ${testSet.length} test images; ` +
      `${f.optimizer} lr ${lr}, batch ${f["batch-size"]}, ${f.epochs} epochs, backend ${nb.backend.getBackend().name}`,
  );
  const progress = new Progress(f.epochs);
  const r = nb.train.fit({
    model,
    optimizer,
    trainLoader,
    valLoader,
    epochs: f.epochs,
    scheduler: scheduler as any,
    clipGradNorm: f["clip-grad-norm"],
    earlyStopping: f["early-stopping"] ? { patience: f["early-stopping"] } : null,
    metricsLog: metrics,
    checkpoint: ckpt,
    resume: f.resume,
    onBatch: (i) => progress.batch(i),
    onEpoch: (e) => progress.epoch(e),
  });
  // record how to rebuild the model for `nabla eval`
  nb.train.saveCheckpoint(ckpt, {
    model,
    optimizer,
    scheduler: scheduler as any,
    generators: { data: gen, global: nb.defaultGenerator },
    epoch: r.history.length,
    extra: { history: r.history, model: f.model, modelOptions: opts, dataset: f.dataset, data: dataDir ?? null, standardize: stats },
  });
  writeFileAtomic(
    curve,
    new TextEncoder().encode(trainingCurveSvg(r.history, `nabla train: ${f.model} on ${f.dataset}, ${f.optimizer} lr ${lr}`)),
  );
  const test = nb.train.evaluate(model, testLoader);
  console.log(
    `test accuracy: ${(100 * test.acc[1]).toFixed(2)}% (top-5 ${(100 * test.acc[5]).toFixed(2)}%), loss ${test.loss.toFixed(4)}, after ${r.history.length} epochs`,
  );
  console.log(`wrote ${ckpt}, ${metrics}, ${curve}`);
}

function evalCmd(argv: string[]): void {
  const { flags: f } = parseArgs(argv, evalSpecs);
  if (!f.checkpoint) throw new UsageError("--checkpoint FILE is required");
  if (!existsSync(f.checkpoint)) throw new UsageError(`--checkpoint ${f.checkpoint}: no such file`);
  const { metadata } = nb.io.loadSafetensorsFile(f.checkpoint);
  const extra = trainRecord(f.checkpoint, metadata.extra);
  const model = nb.nn.init.skipInit(() => nb.models.get(extra.model, extra.modelOptions));
  nb.train.loadCheckpoint(f.checkpoint, { model });
  let test = loadDataset(extra.dataset, f.data ?? extra.data ?? undefined, "test");
  const { standardize } = extra;
  if (standardize) {
    const c = test.set.channels;
    const ok = (v: unknown, pos: boolean) => Array.isArray(v) && v.length === c && v.every((x) => Number.isFinite(x) && (!pos || x > 0));
    if (!ok(standardize.mean, false) || !ok(standardize.std, true))
      throw new nb.train.CheckpointError(
        f.checkpoint,
        "extra.standardize",
        `needs ${c} finite means and ${c} positive standard deviations`,
      );
    test = test.withStandardization(standardize);
  }
  const r = nb.train.evaluate(model, new nb.data.DataLoader(test, { batchSize: f["batch-size"] }));
  console.log(
    `${extra.model} on ${extra.dataset} test (${test.length} images): loss ${r.loss.toFixed(4)}, top-1 ${(100 * r.acc[1]).toFixed(2)}%, top-5 ${(100 * r.acc[5]).toFixed(2)}%`,
  );
}

/** What `nabla train` records in a checkpoint to rebuild its model and data: checked, so a damaged file gets an error naming it. */
interface TrainRecord {
  model: string;
  modelOptions: Record<string, unknown>;
  dataset: string;
  data?: string | null;
  standardize?: { mean: number[]; std: number[] };
}

function trainRecord(file: string, text: string | undefined): TrainRecord {
  const bad = (where: string, detail: string) => new nb.train.CheckpointError(file, where, detail);
  if (text === undefined) throw bad("extra", "missing: this checkpoint does not record its model (was it written by nabla train?)");
  let extra: unknown;
  try {
    extra = JSON.parse(text);
  } catch (e) {
    throw bad("extra", `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof extra !== "object" || extra === null || Array.isArray(extra)) throw bad("extra", "must be an object");
  const r = extra as Record<string, unknown>;
  if (typeof r.model !== "string")
    throw bad("extra.model", "missing: this checkpoint does not record its model (was it written by nabla train?)");
  if (!nb.models.list().includes(r.model)) throw bad("extra.model", `unknown model ${preview(r.model)}`);
  // the options `nabla train` writes, and nothing else: a file must not choose the size of what is built
  const o = r.modelOptions ?? {};
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw bad("extra.modelOptions", "must be an object");
  for (const [k, v] of Object.entries(o)) {
    const ok =
      k === "inChannels"
        ? v === 1 || v === 3
        : k === "numClasses"
          ? v === 10
          : k === "smallInput" || k === "batchNorm"
            ? typeof v === "boolean"
            : false;
    if (!ok) throw bad(`extra.modelOptions.${k}`, `${preview(v)} is not an option nabla train writes`);
  }
  if (typeof r.dataset !== "string" || !DATASETS.includes(r.dataset)) throw bad("extra.dataset", `must be one of ${DATASETS.join(", ")}`);
  if (r.data !== undefined && r.data !== null && typeof r.data !== "string") throw bad("extra.data", "must be a folder name or null");
  const st = r.standardize;
  if (st !== undefined && st !== null && (typeof st !== "object" || Array.isArray(st))) throw bad("extra.standardize", "must be an object");
  return r as unknown as TrainRecord;
}

/** One image's shape in each dataset `nabla train` reads. */
const DATASET_SHAPE: Record<string, number[]> = { "fashion-mnist": [1, 28, 28], mnist: [1, 28, 28], cifar10: [3, 32, 32] };

function exportCmd(argv: string[]): void {
  const { flags: f } = parseArgs(argv, exportSpecs);
  if (!f.out) throw new UsageError("--out FILE is required");
  if (!f.model === !f.checkpoint) throw new UsageError("give exactly one of --model NAME and --checkpoint FILE");
  if (f.batch !== undefined && !(f.batch > 0)) throw new UsageError(`--batch must be positive, got ${f.batch}`);
  let model: nb.nn.Module;
  let shape: number[];
  const metadata: Record<string, string> = {};
  if (f.checkpoint) {
    if (f["num-classes"] !== undefined) throw new UsageError("--num-classes applies to --model (a checkpoint has its own)");
    if (!existsSync(f.checkpoint)) throw new UsageError(`--checkpoint ${f.checkpoint}: no such file`);
    const extra = trainRecord(f.checkpoint, nb.io.loadSafetensorsFile(f.checkpoint).metadata.extra);
    model = nb.nn.init.skipInit(() => nb.models.get(extra.model, extra.modelOptions));
    nb.train.loadCheckpoint(f.checkpoint, { model });
    shape = DATASET_SHAPE[extra.dataset];
    metadata.model = extra.model;
    metadata.dataset = extra.dataset;
    // the graph takes images standardized as nabla train fed them: record how
    if (extra.standardize) metadata.standardize = JSON.stringify(extra.standardize);
  } else {
    if (!nb.models.list().includes(f.model)) throw unknownModel(f.model);
    nb.manualSeed(f.seed);
    model = nb.models.get(f.model, f["num-classes"] !== undefined ? { numClasses: f["num-classes"] } : {});
    shape = nb.models.referenceInput(f.model);
    metadata.model = f.model;
  }
  if (f.input !== undefined) {
    shape = String(f.input).split("x").map(Number);
    if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
      throw new UsageError(`--input must look like 3x224x224, got '${f.input}'`);
  }
  const x = nb.zeros([f.batch ?? 1, ...shape]);
  const bytes = nb.onnx.export(model, x, { opsetVersion: f.opset, dynamicBatch: f.batch === undefined, metadata });
  writeFileAtomic(f.out, bytes);
  const batch = f.batch === undefined ? "any batch" : `batch ${f.batch}`;
  console.log(
    `wrote ${f.out}: ${metadata.model}, input "input" [${batch}, ${shape.join(", ")}], output "output", opset ${f.opset}, ${bytes.length.toLocaleString("en-US")} bytes`,
  );
  if (metadata.standardize) {
    const st = extra(metadata.standardize);
    console.log(
      `the input is standardized per channel, (x − mean) / std with mean [${st.mean.join(", ")}], std [${st.std.join(", ")}] (also in the file's metadata)`,
    );
  }
}

const extra = (json: string) => JSON.parse(json) as { mean: number[]; std: number[] };

function modelsCmd(argv: string[]): void {
  const { flags: f, positionals } = parseArgs(argv, modelsSpecs, ["NAME..."]);
  const names = positionals.length ? positionals : nb.models.list();
  for (const name of names) if (!nb.models.list().includes(name)) throw unknownModel(name);
  for (const name of names) {
    const m = nb.nn.init.skipInit(() => nb.models.get(name));
    const n = m.parameters().reduce((a, p) => a + p.data.length, 0);
    let line = `${name.padEnd(22)}${n.toLocaleString("en-US").padStart(14)} parameters`;
    if (f["mult-adds"]) {
      const shape = nb.models.referenceInput(name);
      const macs = nb.summary(m, shape).totalMacs;
      const [v, unit] = macs >= 1e8 ? [macs / 1e9, "G"] : [macs / 1e6, "M"];
      line += `${v.toFixed(3).padStart(10)} ${unit} mult-adds at ${shape.join("x")}`;
    }
    console.log(line);
  }
}

function summaryCmd(argv: string[]): void {
  const { flags: f, positionals } = parseArgs(argv, summarySpecs, ["MODEL"]);
  const name = positionals[0];
  if (!name) throw new UsageError("summary needs a model name, e.g. nabla summary resnet18 --input 3x224x224");
  if (!nb.models.list().includes(name)) throw unknownModel(name);
  const shape = String(f.input).split("x").map(Number);
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new UsageError(`--input must look like 3x224x224, got '${f.input}'`);
  const opts: Record<string, unknown> = { inChannels: shape[0] };
  if (f["num-classes"] !== undefined) opts.numClasses = f["num-classes"];
  if (f["small-input"]) opts.smallInput = true;
  const m = nb.nn.init.skipInit(() => nb.models.get(name, opts));
  console.log(nb.summary(m, shape).text);
}

const commands: Record<string, [(argv: string[]) => void, string, string, Record<string, FlagSpec>]> = {
  train: [
    train,
    "Usage: nabla train [options]",
    "Train a model on the training split (part held out for validation), then report test accuracy.\n" +
      "Writes checkpoint.safetensors, metrics.jsonl (one line per epoch) and training-curve.svg.",
    trainSpecs,
  ],
  eval: [evalCmd, "Usage: nabla eval --checkpoint FILE [options]", "Evaluate a checkpoint on the test split of its dataset.", evalSpecs],
  export: [
    exportCmd,
    "Usage: nabla export --model NAME | --checkpoint FILE --out FILE [options]",
    "Write a zoo model (freshly initialized) or a checkpoint of `nabla train` as an ONNX graph (eval mode;\n" +
      "parameters under their state-dict names; the input's first dimension symbolic unless --batch).",
    exportSpecs,
  ],
  lab: [labCmd, labUsage, labHelp, {}],
  models: [
    modelsCmd,
    "Usage: nabla models [NAME...] [--mult-adds]",
    "List the models (or the NAMEs) and their parameters (1000 classes, 3 channels; lenet5 10, 1).",
    modelsSpecs,
  ],
  summary: [
    summaryCmd,
    "Usage: nabla summary MODEL [--input CxHxW]",
    "Per-layer output shapes, parameters and multiply-accumulates, like torchinfo.",
    summarySpecs,
  ],
};

/** Run one `nabla` command line (without the program name); returns the exit code. */
export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    console.log(`nabla ${version()}`);
    return 0;
  }
  if (cmd === "help" && rest.length > 0) return main([rest[0], "--help"]);
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(HELP);
    return cmd ? 0 : 1;
  }
  const c = commands[cmd];
  if (!c) {
    const near = closest(cmd, Object.keys(commands));
    console.error(
      `nabla: unknown command '${cmd}'${near ? ` (did you mean ${near}?)` : ""}; commands: ${Object.keys(commands).join(", ")} (see nabla --help)`,
    );
    return 2;
  }
  // `nabla lab run ID --help` lists that experiment's own parameters (src/cli/lab.ts)
  const labRun = cmd === "lab" && rest[0] === "run" && rest[1] !== undefined && !rest[1].startsWith("-");
  if ((rest.includes("--help") || rest.includes("-h")) && !labRun) {
    console.log(helpText(c[1], c[2], c[3]));
    return 0;
  }
  try {
    c[0](rest);
    return 0;
  } catch (e) {
    // the whole message (a state-dict mismatch lists every key), never a stack trace
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`nabla ${cmd}: ${msg}`);
    return e instanceof UsageError ? 2 : 1;
  }
}
