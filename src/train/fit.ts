// The training loop: epochs over a DataLoader with validation, top-k accuracy, LR schedules (per epoch,
// per batch, or on the validation loss), gradient clipping, early stopping, L-BFGS through its closure,
// a JSON-lines metrics log and exact-resume checkpoints.

import { requireNode } from "../platform.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import { noGrad } from "../autograd/engine.js";
import { crossEntropy } from "../ops/losses.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import type { Optimizer } from "../optim/optimizer.js";
import { LBFGS } from "../optim/lbfgs.js";
import { ReduceLROnPlateau, OneCycleLR } from "../optim/lr_scheduler.js";
import { clipGradNorm } from "../nn/utils.js";
import type { DataLoader } from "../data/dataloader.js";
import { CheckpointError, loadCheckpoint, saveCheckpoint, type Schedulerish } from "./checkpoint.js";
import { writeFileAtomic } from "../io/safetensors.js";
import { surplus } from "../surplus.js";

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss?: number;
  /** Validation top-k accuracies, by k. */
  valAcc?: Record<number, number>;
  lr: number;
  seconds: number;
  imagesPerSec: number;
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  imagesPerSec: number;
  elapsed: number;
}

export interface FitOptions {
  model: Module;
  optimizer: Optimizer<any>;
  trainLoader: DataLoader;
  valLoader?: DataLoader | null;
  /** Total epochs (a resumed run continues up to this number). */
  epochs: number;
  /** Default: cross-entropy on logits and class indices. */
  lossFn?: (output: Tensor, target: Tensor) => Tensor;
  /** Stepped once per epoch; OneCycleLR per batch; ReduceLROnPlateau with the validation (else training) loss. */
  scheduler?: (Schedulerish & { step(metric?: number): void }) | null;
  /** Clip the global gradient norm to this value before each step. */
  clipGradNorm?: number | null;
  /** Stop when the monitored loss has not improved by `minDelta` for `patience` epochs. */
  earlyStopping?: { patience: number; minDelta?: number } | null;
  /** Top-k accuracies reported for validation (default [1, 5]). */
  topk?: number[];
  /** One JSON object per epoch in this file (a fresh run starts it anew; a resumed run keeps the checkpoint's epochs). */
  metricsLog?: string | null;
  /** Save a checkpoint here after every epoch (atomically). */
  checkpoint?: string | null;
  /** Resume from this checkpoint: model, optimizer, scheduler, generators and epoch. */
  resume?: string | null;
  /** Generators whose state is checkpointed (default: the loader's and the global one). */
  generators?: Record<string, Generator>;
  onBatch?: (info: BatchInfo) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** Keep training when a batch's loss is NaN or ±Inf (default false: fit stops with an error before that step). */
  allowNonFiniteLoss?: boolean;
}

export interface FitResult {
  history: EpochRecord[];
  stoppedEarly: boolean;
  startEpoch: number;
}

/**
 * The epoch records a checkpoint written by fit holds (`extra.history`): one per epoch done, each with
 * fit's fields only, numbers (null where JSON wrote a NaN), top-k accuracies keyed by k. None: [].
 */
function checkedHistory(file: string, h: unknown, epoch: number): EpochRecord[] {
  if (h === undefined) return [];
  const fail = (path: string, detail: string): never => {
    throw new CheckpointError(file, `extra.history${path}`, detail);
  };
  if (!Array.isArray(h)) fail("", "must be an array of epoch records");
  if ((h as unknown[]).length !== epoch) fail("", `holds ${(h as unknown[]).length} epochs, the checkpoint is at epoch ${epoch}`);
  const num = (v: unknown) => v === null || typeof v === "number";
  (h as unknown[]).forEach((rec, i) => {
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) fail(`.${i}`, "must be an object");
    for (const [k, v] of Object.entries(rec as Record<string, unknown>)) {
      const ok =
        k === "epoch"
          ? v === i + 1
          : k === "valAcc"
            ? typeof v === "object" &&
              v !== null &&
              !Array.isArray(v) &&
              Object.entries(v).every(([kk, a]) => /^[1-9]\d{0,3}$/.test(kk) && num(a))
            : ["trainLoss", "trainAcc", "valLoss", "lr", "seconds", "imagesPerSec"].includes(k) && num(v);
      if (!ok) fail(`.${i}.${k}`, k === "epoch" ? `must be ${i + 1}` : "is not a field fit writes, with a number");
    }
  });
  return h as EpochRecord[];
}

/**
 * How many of the rows of `logits` have their label among the k largest entries. A NaN ranks above every
 * number (as in torch.topk), and a row whose label's logit is NaN is wrong.
 */
function topkCorrect(logits: Tensor, y: Tensor, k: number): number {
  const [n, c] = logits.shape;
  const d = logits.data,
    t = y.data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const v = d[i * c + t[i]];
    if (Number.isNaN(v)) continue;
    let above = 0;
    for (let j = 0; j < c; j++) {
      const u = d[i * c + j];
      if (u > v || Number.isNaN(u)) above++;
    }
    if (above < k) correct++;
  }
  return correct;
}

/** Mean loss and top-k accuracies of `model` over a loader, in eval mode without gradients. */
export function evaluate(
  model: Module,
  loader: DataLoader,
  opts: { lossFn?: (o: Tensor, t: Tensor) => Tensor; topk?: number[] } = {},
): { loss: number; acc: Record<number, number> } {
  if (arguments.length > 3) surplus(arguments, "evaluate(model, loader, opts)");
  const lossFn = opts.lossFn ?? ((o, t) => crossEntropy(o, t));
  const ks = opts.topk ?? [1, 5];
  const wasTraining = model.training;
  model.eval();
  let total = 0,
    lossSum = 0;
  const correct: Record<number, number> = Object.fromEntries(ks.map((k) => [k, 0]));
  try {
    noGrad(() => {
      for (const { x, y } of loader) {
        const out = model.forward(x);
        const n = x.shape[0];
        lossSum += lossFn(out, y).item() * n;
        for (const k of ks) correct[k] += topkCorrect(out, y, k);
        total += n;
      }
    });
  } finally {
    model.train(wasTraining);
  }
  if (total === 0) throw new RangeError("evaluate: the loader yielded no samples (an empty dataset?)");
  return { loss: lossSum / total, acc: Object.fromEntries(ks.map((k) => [k, correct[k] / total])) };
}

/**
 * Train `model` for `epochs` epochs. Every epoch: a pass over `trainLoader` (one optimizer step per
 * batch), validation, scheduler step, metrics log line, checkpoint.
 *
 * @example
 * const { history } = nb.train.fit({ model, optimizer, trainLoader, valLoader, epochs: 5 });
 */
export function fit(o: FitOptions): FitResult {
  if (arguments.length > 1) surplus(arguments, "fit(o)");
  const lossFn = o.lossFn ?? ((out, t) => crossEntropy(out, t));
  const generators = o.generators ?? { data: o.trainLoader.generator, global: defaultGenerator };
  const history: EpochRecord[] = [];
  let startEpoch = 0;
  if (o.resume) {
    const r = loadCheckpoint(o.resume, { model: o.model, optimizer: o.optimizer, scheduler: o.scheduler, generators });
    startEpoch = r.epoch;
    history.push(...checkedHistory(o.resume, r.extra.history, r.epoch));
  }
  // the metrics log holds this run's epochs once each: a fresh run starts it anew, a resumed one rewrites it from
  // the checkpoint's history (dropping epochs logged after that checkpoint by a run that was then killed)
  if (o.metricsLog) writeFileAtomic(o.metricsLog, new TextEncoder().encode(history.map((h) => JSON.stringify(h) + "\n").join("")));
  const perBatchScheduler = o.scheduler instanceof OneCycleLR;
  let best = Infinity,
    bad = 0,
    stoppedEarly = false;
  for (const h of history) {
    const m = h.valLoss ?? h.trainLoss;
    if (m < best - (o.earlyStopping?.minDelta ?? 0)) {
      best = m;
      bad = 0;
    } else bad++;
  }
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    o.model.train();
    const t0 = performance.now();
    let seen = 0,
      lossSum = 0,
      correct = 0,
      b = 0;
    const batches = o.trainLoader.length;
    if (batches === 0) throw new RangeError("fit: the training loader yields no batches (an empty dataset?)");
    for (const { x, y } of o.trainLoader) {
      let loss: number;
      let out!: Tensor;
      // a NaN / Inf loss stops the run before its step reaches the parameters (unless allowed)
      const finite = (l: Tensor): Tensor => {
        const v = l.item();
        if (!Number.isFinite(v) && !o.allowNonFiniteLoss) {
          throw new RangeError(
            `fit: the training loss is ${v} at epoch ${epoch + 1}, batch ${b + 1}: training has diverged ` +
              "(lower the learning rate, or pass allowNonFiniteLoss: true to continue)",
          );
        }
        return l;
      };
      if (o.optimizer instanceof LBFGS) {
        loss = o.optimizer.step(() => {
          o.optimizer.zeroGrad();
          out = o.model.forward(x);
          const l = finite(lossFn(out, y));
          l.backward();
          return l;
        });
      } else {
        o.optimizer.zeroGrad();
        out = o.model.forward(x);
        const l = finite(lossFn(out, y));
        l.backward();
        if (o.clipGradNorm) clipGradNorm(o.model.parameters(), o.clipGradNorm);
        o.optimizer.step();
        loss = l.item();
      }
      if (perBatchScheduler) o.scheduler!.step();
      const n = x.shape[0];
      seen += n;
      lossSum += loss * n;
      correct += topkCorrect(out, y, 1);
      b++;
      const elapsed = (performance.now() - t0) / 1000;
      o.onBatch?.({
        epoch: epoch + 1,
        batch: b,
        batches,
        loss: lossSum / seen,
        acc: correct / seen,
        imagesPerSec: seen / elapsed,
        elapsed,
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    const record: EpochRecord = {
      epoch: epoch + 1,
      trainLoss: lossSum / seen,
      trainAcc: correct / seen,
      lr: o.optimizer.paramGroups[0].lr,
      seconds,
      imagesPerSec: seen / seconds,
    };
    if (o.valLoader) {
      const v = evaluate(o.model, o.valLoader, { lossFn, topk: o.topk });
      record.valLoss = v.loss;
      record.valAcc = v.acc;
    }
    const monitored = record.valLoss ?? record.trainLoss;
    if (o.scheduler && !perBatchScheduler) {
      if (o.scheduler instanceof ReduceLROnPlateau) o.scheduler.step(monitored);
      else o.scheduler.step();
    }
    history.push(record);
    if (o.metricsLog) requireNode("node:fs", "the metrics log").appendFileSync(o.metricsLog, JSON.stringify(record) + "\n");
    if (o.checkpoint) {
      saveCheckpoint(o.checkpoint, {
        model: o.model,
        optimizer: o.optimizer,
        scheduler: o.scheduler,
        generators,
        epoch: epoch + 1,
        extra: { history },
      });
    }
    o.onEpoch?.(record);
    if (o.earlyStopping) {
      if (monitored < best - (o.earlyStopping.minDelta ?? 0)) {
        best = monitored;
        bad = 0;
      } else if (++bad >= o.earlyStopping.patience) {
        stoppedEarly = true;
        break;
      }
    }
  }
  return { history, stoppedEarly, startEpoch };
}
