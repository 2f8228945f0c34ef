// Checkpoints: model, optimizer, scheduler, generator states and the epoch in one safetensors file,
// tensors as tensors and everything else as JSON metadata; written atomically.

import { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import { preview, StateDictError, type Optimizer, type OptimizerStateDict } from "../optim/optimizer.js";
import type { Generator } from "../tensor/random.js";
import { loadSafetensorsFile, serializeSafetensors, writeFileAtomic } from "../io/safetensors.js";
import type { Bytes } from "../io/bytes.js";
import { surplus } from "../surplus.js";

export interface Schedulerish {
  stateDict(): Record<string, unknown>;
  loadStateDict(sd: Record<string, unknown>): void;
}

export interface CheckpointContents {
  model: Module;
  optimizer?: Optimizer<any> | null;
  scheduler?: Schedulerish | null;
  /** Named generators whose state to keep (data shuffling, dropout …). */
  generators?: Record<string, Generator>;
  epoch: number;
  /** Anything else worth keeping (metrics, the command line …), JSON-serializable. */
  extra?: Record<string, unknown>;
}

/** Save a checkpoint atomically (a crash mid-write leaves the previous file intact). */
export function saveCheckpoint(path: string, c: CheckpointContents): void {
  if (arguments.length > 2) surplus(arguments, "saveCheckpoint(path, c)");
  writeFileAtomic(path, serializeCheckpoint(c));
}

/** A checkpoint's bytes (the safetensors file saveCheckpoint writes), e.g. to keep in a page or send elsewhere. */
export function serializeCheckpoint(c: CheckpointContents): Uint8Array {
  if (arguments.length > 1) surplus(arguments, "serializeCheckpoint(c)");
  const tensors: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.model.stateDict())) tensors[`model.${k}`] = v;
  let optimMeta: unknown = null;
  if (c.optimizer) {
    const sd = c.optimizer.stateDict();
    const state: Record<string, Record<string, unknown>> = {};
    const enc = (v: unknown, key: string): unknown => {
      if (v instanceof Tensor) {
        tensors[key] = v;
        return { $tensor: key };
      }
      if (v instanceof Float64Array || v instanceof Float32Array) return { $array: Array.from(v) };
      if (Array.isArray(v)) return v.map((e, j) => enc(e, `${key}.${j}`));
      return v;
    };
    for (const [i, s] of Object.entries(sd.state)) {
      state[i] = {};
      for (const [k, v] of Object.entries(s)) state[i][k] = enc(v, `optimizer.state.${i}.${k}`);
    }
    optimMeta = { state, param_groups: sd.param_groups };
  }
  const metadata: Record<string, string> = {
    format: "nabla-checkpoint-1",
    epoch: String(c.epoch),
    optimizer: JSON.stringify(optimMeta),
    scheduler: JSON.stringify(c.scheduler ? c.scheduler.stateDict() : null),
    generators: JSON.stringify(Object.fromEntries(Object.entries(c.generators ?? {}).map(([k, g]) => [k, g.getState()]))),
    extra: JSON.stringify(c.extra ?? {}),
  };
  return serializeSafetensors(tensors, metadata);
}

/** A checkpoint that cannot be restored: the message names the file and the place inside it. */
export class CheckpointError extends Error {
  constructor(file: string, path: string, detail: string) {
    super(`${file}: ${path ? `${path}: ` : ""}${detail}`);
    this.name = "CheckpointError";
  }
}

/**
 * Restore a checkpoint into the given objects; returns the epoch it was saved after and its extra data.
 * Every section is checked against what it restores before anything is applied to it: the model strictly
 * (loadStateDict), the optimizer's groups and state (shapes equal to their parameters, every tensor
 * reference present, hyper-parameters re-validated), the scheduler's known keys, the generators' words;
 * an error names the file and the path inside it (`optimizer.state.3.exp_avg: shape [1] but parameter is [3]`).
 */
export function loadCheckpoint(
  pathOrBytes: string | Bytes,
  c: Omit<CheckpointContents, "epoch" | "extra">,
): { epoch: number; extra: Record<string, unknown> } {
  if (arguments.length > 2) surplus(arguments, "loadCheckpoint(pathOrBytes, c)");
  const path = typeof pathOrBytes === "string" ? pathOrBytes : "<bytes>";
  const { tensors, metadata } = loadSafetensorsFile(pathOrBytes);
  const fail = (where: string, detail: string): never => {
    throw new CheckpointError(path, where, detail);
  };
  if (metadata.format !== "nabla-checkpoint-1") fail("", `not a nabla checkpoint (format '${metadata.format ?? "missing"}')`);
  const json = (key: string): unknown => {
    if (!(key in metadata)) fail(key, "missing from the metadata");
    try {
      return JSON.parse(metadata[key]);
    } catch (e) {
      return fail(key, `is not valid JSON (${(e as Error).message})`);
    }
  };
  const epochText = metadata.epoch ?? "";
  if (!/^\d{1,9}$/.test(epochText)) fail("epoch", `${JSON.stringify(epochText)} is not a non-negative integer`);
  const optim = json("optimizer");
  const sched = json("scheduler");
  const gens = json("generators");
  const extra = json("extra");
  if (typeof extra !== "object" || extra === null || Array.isArray(extra)) fail("extra", "must be an object");
  if (typeof gens !== "object" || gens === null || Array.isArray(gens)) fail("generators", "must be an object");
  for (const k of Object.keys(tensors))
    if (!k.startsWith("model.") && !k.startsWith("optimizer.state.")) fail(k, "a tensor outside the model and optimizer sections");
  // the optimizer section: tensor references resolved (each must exist), then checked by loadStateDict
  let optimSd: OptimizerStateDict | null = null;
  if (optim !== null) {
    if (typeof optim !== "object" || Array.isArray(optim)) fail("optimizer", "must be an object or null");
    const state = (optim as { state?: unknown }).state;
    if (typeof state !== "object" || state === null || Array.isArray(state)) fail("optimizer.state", "must be an object");
    // optimizer state nests at most a list of arrays (LBFGS's curvature pairs): deeper input is refused, not recursed into
    const dec = (v: unknown, where: string, depth = 0): unknown => {
      if (depth > 4) fail(where, "is nested too deeply for optimizer state");
      if (Array.isArray(v)) return v.map((e, j) => dec(e, `${where}.${j}`, depth + 1));
      if (v && typeof v === "object") {
        const o = v as { $tensor?: unknown; $array?: unknown };
        const keys = Object.keys(o);
        if (keys.length === 1 && keys[0] === "$tensor") {
          if (typeof o.$tensor !== "string") fail(where, "$tensor must be a tensor name (a string)");
          if (!Object.prototype.hasOwnProperty.call(tensors, o.$tensor as string)) {
            fail(where, `refers to tensor ${preview(o.$tensor)}, which the file does not have`);
          }
          return tensors[o.$tensor as string];
        }
        if (keys.length === 1 && keys[0] === "$array") {
          if (!Array.isArray(o.$array) || !o.$array.every((e) => typeof e === "number")) fail(where, "$array must be an array of numbers");
          return Float64Array.from(o.$array as number[]);
        }
        fail(where, "is neither a number, an array, a {$tensor} nor an {$array}");
      }
      return v;
    };
    const decoded: Record<string, Record<string, unknown>> = {};
    for (const [i, s] of Object.entries(state as Record<string, unknown>)) {
      if (typeof s !== "object" || s === null || Array.isArray(s)) fail(`optimizer.state.${i}`, "must be an object");
      decoded[i] = {};
      for (const [k, v] of Object.entries(s as Record<string, unknown>)) decoded[i][k] = dec(v, `optimizer.state.${i}.${k}`);
    }
    optimSd = { ...(optim as OptimizerStateDict), state: decoded };
  }
  const within = (section: string, f: () => void): void => {
    try {
      f();
    } catch (e) {
      if (e instanceof StateDictError) fail(e.path ? `${section}.${e.path}` : section, e.detail);
      fail(section, (e as Error).message);
    }
  };
  const model: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith("model.")) model[k.slice(6)] = v;
  within("model", () => c.model.loadStateDict(model));
  if (c.optimizer && optimSd) within("optimizer", () => c.optimizer!.loadStateDict(optimSd!));
  if (c.scheduler && sched !== null) within("scheduler", () => c.scheduler!.loadStateDict(sched as Record<string, unknown>));
  for (const [k, g] of Object.entries(c.generators ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(gens, k)) continue;
    const st = (gens as Record<string, unknown>)[k];
    if (!Array.isArray(st)) fail(`generators.${k}`, "must be an array of 3 numbers");
    within(`generators.${k}`, () => g.setState((st as (number | null)[]).map((v) => (v === null ? NaN : v)) as number[]));
  }
  return { epoch: Number(epochText), extra: extra as Record<string, unknown> };
}
