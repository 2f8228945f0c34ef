// Checkpoints: model, optimizer, scheduler, generator states and the epoch in one safetensors file,
// tensors as tensors and everything else as JSON metadata; written atomically.

import { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.js";
import type { Generator } from "../tensor/random.js";
import { loadSafetensorsFile, saveSafetensors } from "../io/safetensors.js";

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
  saveSafetensors(path, tensors, metadata);
}

/** Restore a checkpoint into the given objects; returns the epoch it was saved after and its extra data. */
export function loadCheckpoint(
  path: string,
  c: Omit<CheckpointContents, "epoch" | "extra">,
): { epoch: number; extra: Record<string, unknown> } {
  const { tensors, metadata } = loadSafetensorsFile(path);
  if (metadata.format !== "nabla-checkpoint-1")
    throw new Error(`${path}: not a nabla checkpoint (format '${metadata.format ?? "missing"}')`);
  const model: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith("model.")) model[k.slice(6)] = v;
  c.model.loadStateDict(model);
  const optim = JSON.parse(metadata.optimizer) as OptimizerStateDict | null;
  if (c.optimizer && optim) {
    const dec = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(dec);
      const o = v as { $tensor?: string; $array?: number[] } | null;
      if (o && typeof o === "object" && "$tensor" in o) return tensors[o.$tensor!];
      if (o && typeof o === "object" && "$array" in o) return Float64Array.from(o.$array!);
      return v;
    };
    for (const s of Object.values(optim.state)) for (const [k, v] of Object.entries(s)) s[k] = dec(v);
    c.optimizer.loadStateDict(optim);
  }
  const sched = JSON.parse(metadata.scheduler);
  if (c.scheduler && sched) c.scheduler.loadStateDict(sched);
  const gens = JSON.parse(metadata.generators) as Record<string, number[]>;
  for (const [k, g] of Object.entries(c.generators ?? {})) {
    if (gens[k]) g.setState(gens[k].map((v) => (v === null ? NaN : v)));
  }
  return { epoch: Number(metadata.epoch), extra: JSON.parse(metadata.extra) };
}
