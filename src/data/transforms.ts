// Per-image transforms on [C, H, W] float tensors (torchvision.transforms' names and semantics).

import { Tensor } from "../tensor/tensor.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import type { Transform } from "./dataset.js";
import { surplus } from "../surplus.js";

/**
 * How a transform is rebuilt in a DataLoader worker thread (functions cannot be sent between threads):
 * every transform made here carries its name and arguments.
 */
export interface TransformSpec {
  name: "normalize" | "randomCrop" | "randomHorizontalFlip" | "compose";
  args: unknown[];
}
const SPEC = Symbol.for("nabla.transformSpec");

function withSpec(t: Transform, name: TransformSpec["name"], args: unknown[]): Transform {
  Object.defineProperty(t, SPEC, { value: { name, args } satisfies TransformSpec });
  return t;
}

/** The spec of a transform made by this module, or null for any other function. */
export function transformSpec(t: Transform): TransformSpec | null {
  if (arguments.length > 1) surplus(arguments, "transformSpec(t)");
  return ((t as unknown as Record<symbol, TransformSpec>)[SPEC] as TransformSpec | undefined) ?? null;
}

/** A transform from its spec (in a worker thread). */
export function fromSpec(spec: TransformSpec): Transform {
  if (arguments.length > 1) surplus(arguments, "fromSpec(spec)");
  switch (spec.name) {
    case "normalize":
      return normalize(spec.args[0] as number[], spec.args[1] as number[]);
    case "randomCrop":
      return randomCrop(spec.args[0] as number, spec.args[1] as { padding?: number });
    case "randomHorizontalFlip":
      return randomHorizontalFlip(spec.args[0] as number);
    case "compose":
      return compose((spec.args[0] as TransformSpec[]).map((s) => fromSpec(s)));
  }
}

/** (x − mean_c) / std_c per channel. */
export function normalize(mean: number[], std: number[]): Transform {
  if (arguments.length > 2) surplus(arguments, "normalize(mean, std)");
  return withSpec(normalizeFn(mean, std), "normalize", [mean, std]);
}
function normalizeFn(mean: number[], std: number[]): Transform {
  return (x) => {
    const [c, h, w] = x.shape;
    if (mean.length !== c || std.length !== c) throw new RangeError(`normalize: ${mean.length} means / ${std.length} stds for ${c} channels`);
    const out = new Float32Array(x.data.length);
    const hw = h * w;
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < hw; i++) out[ch * hw + i] = (x.data[ch * hw + i] - mean[ch]) / std[ch];
    return new Tensor(out, x.shape);
  };
}

/** Pad by `padding` zeros on every side, then crop a random size×size window (CIFAR-style augmentation). */
export function randomCrop(size: number, opts: { padding?: number } = {}): Transform {
  if (arguments.length > 2) surplus(arguments, "randomCrop(size, opts)");
  const p = opts.padding ?? 0;
  return withSpec(randomCropFn(size, p), "randomCrop", [size, { padding: p }]);
}
function randomCropFn(size: number, p: number): Transform {
  return (x, g?: Generator) => {
    const gen = g ?? defaultGenerator;
    const [c, h, w] = x.shape;
    const H = h + 2 * p, W = w + 2 * p;
    if (size > H || size > W) throw new RangeError(`randomCrop: crop size ${size} is larger than the padded image ${H}x${W}`);
    const top = gen.randint(0, H - size + 1), left = gen.randint(0, W - size + 1);
    const out = new Float32Array(c * size * size);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < size; i++) {
        const sy = top + i - p;
        if (sy < 0 || sy >= h) continue;
        for (let j = 0; j < size; j++) {
          const sx = left + j - p;
          if (sx >= 0 && sx < w) out[(ch * size + i) * size + j] = x.data[(ch * h + sy) * w + sx];
        }
      }
    }
    return new Tensor(out, [c, size, size]);
  };
}

/** Mirror left–right with probability p (default 0.5). */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (arguments.length > 1) surplus(arguments, "randomHorizontalFlip(p)");
  return withSpec(flipFn(p), "randomHorizontalFlip", [p]);
}
function flipFn(p: number): Transform {
  return (x, g?: Generator) => {
    if ((g ?? defaultGenerator).random() >= p) return x;
    const [c, h, w] = x.shape;
    const out = new Float32Array(x.data.length);
    for (let r = 0; r < c * h; r++) for (let j = 0; j < w; j++) out[r * w + j] = x.data[r * w + (w - 1 - j)];
    return new Tensor(out, x.shape);
  };
}

/** Apply transforms in order. */
export function compose(transforms: Transform[]): Transform {
  if (arguments.length > 1) surplus(arguments, "compose(transforms)");
  const specs = transforms.map((t) => transformSpec(t));
  const t: Transform = (x, g) => transforms.reduce((acc, t) => t(acc, g), x);
  return specs.every((s) => s !== null) ? withSpec(t, "compose", [specs]) : t;
}
