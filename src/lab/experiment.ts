// The lab's shape: an experiment tests one claim of the primer (../shared/MISSION.md) with nabla's public
// API, seeded and deterministic, streaming its metrics as it goes and returning the claim's verdict as
// measured numbers plus the series to plot. The same code runs in Node (`nabla lab run`) and in a page.

/** A knob's value. */
export type ParamValue = number | string | boolean;

export interface ParamSpec {
  default: ParamValue;
  help: string;
  /** Numbers: the allowed range (inclusive). */
  min?: number;
  max?: number;
  /** Numbers: integers only. */
  integer?: boolean;
  /** Strings: the allowed values. */
  choices?: readonly string[];
}

export type Params = Record<string, ParamValue>;

/** One line of a plot. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** A 2-D function sampled on a grid, drawn under the plot's series (optimizer paths over a landscape). */
export interface Landscape {
  x: [number, number];
  y: [number, number];
  /** values[j * nx + i] = f(x_i, y_j), nx = ny = size. */
  size: number;
  values: number[];
  /** Marked points (minimizers, saddles). */
  marks?: [number, number][];
}

export interface Plot {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  series: Series[];
  landscape?: Landscape;
}

/** What a run measured: the claim's verdict in words and in numbers, and its plots. */
export interface LabResult {
  /** Whether the measured numbers bear the claim out at these settings. */
  holds: boolean;
  /** One or two sentences with the numbers, e.g. "momentum 0.9 reaches ‖x‖ < 1e-6 in 64 steps, plain GD in 512". */
  verdict: string;
  numbers: Record<string, number>;
  plots: Plot[];
}

/** A metric as it is produced: series `series` of plot `plot` gets the point (x, y). */
export interface Metric {
  plot: number;
  series: string;
  x: number;
  y: number;
}

export type Emit = (m: Metric) => void;

/** Data an experiment may need, handed in by a page (which fetches it); in Node an experiment reads it itself. */
export interface LabData {
  /** The shipped Fashion-MNIST slice's training images [count, 28, 28] and labels. */
  fashionTrain?: { images: Uint8Array; labels: Uint8Array; count: number };
}

export interface Experiment {
  id: string;
  title: string;
  /** The primer's words (MISSION.md), quoted. */
  claim: string;
  /** Where in the primer: "1. Optimization", "2. Batch Normalization", … */
  section: string;
  params: Record<string, ParamSpec>;
  /** Settings small enough for the test suite (merged over the defaults). */
  fast: Params;
  /** Too slow to re-run at full scale in a page's worker: the page shows the Node recording and re-runs at `fast`. */
  heavy?: boolean;
  run(params: Params, seed: number, emit: Emit, data?: LabData): LabResult;
}

/** The defaults overridden by `given`; an unknown name, a wrong type or an out-of-range value is an error naming it. */
export function resolveParams(e: Experiment, given: Record<string, unknown> = {}): Params {
  const out: Params = {};
  for (const k of Object.keys(given))
    if (!(k in e.params)) throw new TypeError(`lab ${e.id}: unknown parameter '${k}' (parameters: ${Object.keys(e.params).join(", ")})`);
  for (const [k, spec] of Object.entries(e.params)) {
    const v = k in given ? given[k] : spec.default;
    if (typeof v !== typeof spec.default)
      throw new TypeError(`lab ${e.id}: parameter '${k}' must be a ${typeof spec.default}, got ${JSON.stringify(v)}`);
    if (typeof v === "number") {
      if (!Number.isFinite(v) || (spec.integer && !Number.isInteger(v)))
        throw new RangeError(`lab ${e.id}: parameter '${k}' must be ${spec.integer ? "an integer" : "a finite number"}, got ${v}`);
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max))
        throw new RangeError(`lab ${e.id}: parameter '${k}' must be in [${spec.min}, ${spec.max}], got ${v}`);
    }
    if (typeof v === "string" && spec.choices && !spec.choices.includes(v))
      throw new RangeError(`lab ${e.id}: parameter '${k}' must be one of ${spec.choices.join(", ")}, got '${v}'`);
    out[k] = v as ParamValue;
  }
  return out;
}

/** A number for a verdict: 3 significant digits, exponent form outside [1e-3, 1e5). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}
