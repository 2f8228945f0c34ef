// Datasets (map-style, as torch.utils.data) and the image-classification dataset the readers feed.

import { Tensor } from "../tensor/tensor.js";
import { fmt } from "../tensor/shape.js";
import { cat, narrow } from "../ops/movement.js";
import type { ImageSet } from "./readers.js";
import type { Generator } from "../tensor/random.js";
import type { TypedArray } from "../tensor/dtype.js";
import { fromSpec, transformSpec, type TransformSpec } from "./transforms.js";
import { surplus } from "../surplus.js";

/** One example: an input tensor and a target (a class index or a tensor). */
export interface Sample { x: Tensor; y: Tensor }

/** A dataset as data a worker thread can rebuild it from (see DataLoader's `numWorkers`). */
export type DatasetSpec =
  | { kind: "tensor"; inputs: { data: TypedArray; shape: number[] }; targets: { data: TypedArray; shape: number[] } }
  | { kind: "image"; set: ImageSet; transform: TransformSpec | null; standardize: Standardize | null }
  | { kind: "subset"; dataset: DatasetSpec; indices: Int32Array };

/** A map-style dataset: `length` samples, addressed by index. */
export abstract class Dataset {
  abstract get length(): number;
  abstract get(index: number, generator?: Generator): Sample;
  /** Optional fast path: a whole batch at once (used by DataLoader when present). */
  getBatch?(indices: Int32Array, generator?: Generator): Sample;
  /** How a worker thread rebuilds this dataset, or a reason it cannot (the built-in datasets have specs). */
  workerSpec(): DatasetSpec | string {
    return `${this.constructor.name} has no worker spec (give DataLoader a workerDataset module to build it in the workers)`;
  }
}

/** A dataset from its spec (in a worker thread). */
export function datasetFromSpec(spec: DatasetSpec): Dataset {
  switch (spec.kind) {
    case "tensor":
      return new TensorDataset(new Tensor(spec.inputs.data, spec.inputs.shape), new Tensor(spec.targets.data, spec.targets.shape));
    case "image":
      return new ImageDataset(spec.set, spec.transform ? fromSpec(spec.transform) : undefined, spec.standardize ?? undefined);
    case "subset":
      return new Subset(datasetFromSpec(spec.dataset), spec.indices);
  }
}

/** Wraps tensors sharing their first dimension; sample i is (xs[i], ys[i]). */
export class TensorDataset extends Dataset {
  constructor(readonly inputs: Tensor, readonly targets: Tensor) {
    super();
    if (inputs.shape[0] !== targets.shape[0]) {
      throw new RangeError(`TensorDataset: size mismatch between tensors: ${fmt(inputs.shape)} and ${fmt(targets.shape)}`);
    }
  }
  get length(): number { return this.inputs.shape[0]; }
  get(i: number): Sample {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`TensorDataset: index ${i} out of range for ${this.length} samples`);
    return { x: narrow(this.inputs, 0, i, 1).reshape(this.inputs.shape.slice(1)), y: narrow(this.targets, 0, i, 1).reshape(this.targets.shape.slice(1)) };
  }
  override getBatch(idx: Int32Array): Sample {
    return { x: gatherRows(this.inputs, idx), y: gatherRows(this.targets, idx) };
  }
  override workerSpec(): DatasetSpec {
    return {
      kind: "tensor",
      inputs: { data: this.inputs.data, shape: [...this.inputs.shape] },
      targets: { data: this.targets.data, shape: [...this.targets.shape] },
    };
  }
}

/** Rows `idx` of t along dim 0, copied straight from storage. */
function gatherRows(t: Tensor, idx: Int32Array): Tensor {
  const row = t.data.length / t.shape[0];
  const out = new (t.data.constructor as new (n: number) => typeof t.data)(idx.length * row);
  for (let k = 0; k < idx.length; k++) out.set(t.data.subarray(idx[k] * row, (idx[k] + 1) * row), k * row);
  return new Tensor(out, [idx.length, ...t.shape.slice(1)]);
}

/** A per-sample transform of an image [C, H, W] (float32), drawing randomness from `generator`. */
export type Transform = (x: Tensor, generator?: Generator) => Tensor;

/** Per-channel standardization applied as images are read: (pixel/255 − mean_c) / std_c. */
export interface Standardize { mean: number[]; std: number[] }

/**
 * Per-channel mean and standard deviation of pixel/255 over a whole image set. An empty set, or a channel
 * whose pixels all have one value (standard deviation 0: standardizing would divide by zero, as
 * torchvision's Normalize refuses), is a RangeError.
 */
export function channelStats(set: ImageSet): Standardize {
  if (arguments.length > 1) surplus(arguments, "channelStats(set)");
  const { channels: c, height: h, width: w, images, count } = set;
  if (count === 0 || h * w === 0) throw new RangeError(`channelStats: the image set is empty (${count} images of ${c}×${h}×${w})`);
  const hw = h * w, mean: number[] = [], std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < count; i++) {
      const base = (i * c + ch) * hw;
      for (let k = 0; k < hw; k++) { const v = images[base + k] / 255; s += v; s2 += v * v; }
    }
    const n = count * hw;
    let same = true;
    for (let i = 0; i < count && same; i++) {
      const base = (i * c + ch) * hw;
      for (let k = 0; k < hw; k++) if (images[base + k] !== images[ch * hw]) { same = false; break; }
    }
    if (same) throw new RangeError(`channelStats: every pixel of channel ${ch} is ${images[ch * hw]} (standard deviation 0): standardizing would divide by zero`);
    mean.push(s / n);
    std.push(Math.sqrt(Math.max(s2 / n - (s / n) ** 2, 1e-12)));
  }
  return { mean, std };
}

/**
 * Images stored as bytes with integer labels. `get` returns x = image/255 (standardized per channel when
 * `standardize` is given) as float32 [C, H, W] after `transform`, and y = the label as an int32 scalar;
 * batches without a per-sample transform are assembled directly from the bytes.
 */
export class ImageDataset extends Dataset {
  private readonly scale: Float32Array;
  private readonly shift: Float32Array;

  constructor(readonly set: ImageSet, readonly transform?: Transform, readonly standardize?: Standardize) {
    super();
    const c = set.channels;
    if (standardize) {
      const ok = (v: unknown, pos: boolean) => Array.isArray(v) && v.length === c && v.every((x) => Number.isFinite(x) && (!pos || x > 0));
      if (!ok(standardize.mean, false)) throw new RangeError(`ImageDataset: standardize.mean must hold ${c} finite numbers, got ${JSON.stringify(standardize.mean)?.slice(0, 60)}`);
      if (!ok(standardize.std, true)) throw new RangeError(`ImageDataset: standardize.std must hold ${c} positive finite numbers, got ${JSON.stringify(standardize.std)?.slice(0, 60)}`);
    }
    // pixel → pixel·scale_c + shift_c, i.e. (pixel/255 − mean)/std
    this.scale = Float32Array.from({ length: c }, (_, ch) => 1 / 255 / (standardize?.std[ch] ?? 1));
    this.shift = Float32Array.from({ length: c }, (_, ch) => -(standardize?.mean[ch] ?? 0) / (standardize?.std[ch] ?? 1));
  }

  override workerSpec(): DatasetSpec | string {
    const t = this.transform ? transformSpec(this.transform) : null;
    if (this.transform && !t) return "ImageDataset: its transform is not made from nb.data.transforms, so a worker thread cannot rebuild it";
    return { kind: "image", set: this.set, transform: t, standardize: this.standardize ?? null };
  }

  /** The same images with per-channel standardization. */
  withStandardization(s: Standardize): ImageDataset {
    return new ImageDataset(this.set, this.transform, s);
  }
  get length(): number { return this.set.count; }

  private image(i: number): Tensor {
    const { channels: c, height: h, width: w, images } = this.set;
    const n = c * h * w;
    const out = new Float32Array(n);
    const src = images.subarray(i * n, (i + 1) * n);
    const hw = h * w;
    for (let ch = 0; ch < c; ch++) {
      const a = this.scale[ch], b = this.shift[ch];
      for (let k = ch * hw; k < (ch + 1) * hw; k++) out[k] = src[k] * a + b;
    }
    return new Tensor(out, [c, h, w]);
  }

  get(i: number, generator?: Generator): Sample {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`ImageDataset: index ${i} out of range for ${this.length} samples`);
    const x = this.image(i);
    return { x: this.transform ? this.transform(x, generator) : x, y: new Tensor(Int32Array.of(this.set.labels[i]), []) };
  }

  override getBatch(idx: Int32Array, generator?: Generator): Sample {
    if (this.transform) {
      const xs = Array.from(idx, (i) => this.get(i, generator).x);
      return { x: cat(xs.map((x) => x.unsqueeze(0)), 0), y: new Tensor(Int32Array.from(idx, (i) => this.set.labels[i]), [idx.length]) };
    }
    const { channels: c, height: h, width: w, images, labels } = this.set;
    const n = c * h * w;
    const out = new Float32Array(idx.length * n);
    const hw = h * w;
    for (let k = 0; k < idx.length; k++) {
      const src = images.subarray(idx[k] * n, (idx[k] + 1) * n);
      const o = k * n;
      for (let ch = 0; ch < c; ch++) {
        const a = this.scale[ch], b = this.shift[ch];
        for (let j = ch * hw; j < (ch + 1) * hw; j++) out[o + j] = src[j] * a + b;
      }
    }
    return { x: new Tensor(out, [idx.length, c, h, w]), y: new Tensor(Int32Array.from(idx, (i) => labels[i]), [idx.length]) };
  }
}

/** The first `n` samples of a dataset (or those at `indices`). */
export class Subset extends Dataset {
  constructor(readonly dataset: Dataset, readonly indices: Int32Array) { super(); }
  get length(): number { return this.indices.length; }
  get(i: number, g?: Generator): Sample { return this.dataset.get(this.indices[i], g); }
  override workerSpec(): DatasetSpec | string {
    const inner = this.dataset.workerSpec();
    return typeof inner === "string" ? inner : { kind: "subset", dataset: inner, indices: this.indices };
  }
  override getBatch(idx: Int32Array, g?: Generator): Sample {
    const mapped = Int32Array.from(idx, (i) => this.indices[i]);
    if (this.dataset.getBatch) return this.dataset.getBatch(mapped, g);
    const samples = Array.from(mapped, (i) => this.dataset.get(i, g));
    return defaultCollate(samples);
  }
}

/** Stack samples into a batch: x [B, ...], y [B, ...]. */
export function defaultCollate(samples: Sample[]): Sample {
  if (arguments.length > 1) surplus(arguments, "defaultCollate(samples)");
  if (samples.length === 0) throw new RangeError("collate: empty batch");
  return {
    x: cat(samples.map((s) => s.x.unsqueeze(0)), 0),
    y: cat(samples.map((s) => s.y.unsqueeze(0)), 0),
  };
}
