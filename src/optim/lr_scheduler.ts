// Learning-rate schedules with torch.optim.lr_scheduler's (1.13) semantics and exact lr sequences.

import { Optimizer, preview, StateDictError } from "./optimizer.js";
import { bindArgs, checks, describe, type Param } from "../ops/args.js";
import { surplus } from "../surplus.js";

/**
 * A scheduler's settings after its optimizer: torch.optim.lr_scheduler's positional order or an options
 * object (`new StepLR(opt, 7, 0.5)` or `new StepLR(opt, { stepSize: 7, gamma: 0.5 })`); anything else is
 * a TypeError naming the scheduler and the argument.
 */
function schedulerArgs<T extends object>(cls: string, optimizer: unknown, params: readonly Param[], args: readonly unknown[]): T {
  if (!(optimizer instanceof Optimizer)) throw new TypeError(`${cls}: the first argument must be an optimizer, got ${describe(optimizer)}`);
  return bindArgs<T>(cls, params, args);
}
const lastEpochParam: Param = { name: "lastEpoch", check: checks.int(-1) };

/**
 * Assign `sd` onto `target` key by key, only keys `target`'s own stateDict() has; nothing changes unless
 * every key passes. Used by every scheduler's loadStateDict (a file must not replace methods or links).
 * State (counters, rates) must have the current value's layout: a finite number for a number (±Infinity or
 * null where the current value is not finite, as ReduceLROnPlateau's initial best), an array of as many
 * finite numbers (or of arrays of them) for an array; `lastEpoch` / `stepCount` integers ≥ −1.
 * Configuration (strings, objects, arrays of objects: OneCycleLR's phases and options) is not state: the
 * file's must equal the scheduler's own, else the checkpoint was saved with another schedule. With
 * `stateKeys`, every other key is configuration too (a step size, a period, a total step count).
 */
export function assignState(
  target: object,
  current: Record<string, unknown>,
  sd: Record<string, unknown>,
  where: string,
  stateKeys?: ReadonlySet<string>,
): void {
  if (arguments.length > 5) surplus(arguments, "assignState(target, current, sd, where, stateKeys)");
  if (typeof sd !== "object" || sd === null || Array.isArray(sd)) throw new StateDictError(where, "", "a state dict must be an object");
  const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const show = preview;
  const updates: [string, unknown][] = [];
  for (const k of Object.keys(sd)) {
    const v = sd[k];
    if (!Object.prototype.hasOwnProperty.call(current, k) || k === "__proto__") throw new StateDictError(where, k, "unknown key");
    const cur = current[k];
    const bad = (what: string): never => {
      throw new StateDictError(where, k, `${show(v)} ${what}`);
    };
    if (isConfig(cur) || (stateKeys !== undefined && !stateKeys.has(k))) {
      if (!sameConfig(cur, v)) bad("differs from this scheduler's configuration (the checkpoint was saved with another schedule)");
      continue;
    }
    if (typeof cur === "number" || cur === null) {
      const open = cur === null || !Number.isFinite(cur);
      if (!(finite(v) || (open && (v === null || (typeof v === "number" && !Number.isNaN(v))))))
        bad(open ? "is not a number or null" : "is not a finite number");
      if (COUNTERS.has(k) && !(Number.isSafeInteger(v) && (v as number) >= -1)) bad("is not an integer ≥ −1");
    } else if (Array.isArray(cur)) {
      const rows = cur.length > 0 && Array.isArray(cur[0]);
      if (!Array.isArray(v) || v.length !== cur.length) bad(`does not have the current value's length (${cur.length})`);
      const ok = (v as unknown[]).every((e) => (rows ? Array.isArray(e) && e.every(finite) : finite(e)));
      if (!ok) bad(rows ? "must hold arrays of finite numbers" : "must hold finite numbers");
    } else if (typeof cur === "boolean") {
      if (typeof v !== "boolean") bad("is not a boolean");
    } else bad(`cannot replace the current ${typeof cur}`);
    updates.push([k, v]);
  }
  for (const [k, v] of updates)
    (target as Record<string, unknown>)[k] = Array.isArray(v) ? v.map((e) => (Array.isArray(e) ? [...e] : e)) : v;
}

const COUNTERS = new Set(["lastEpoch", "stepCount", "numBadEpochs", "cooldownCounter"]);
/** What an epoch-indexed schedule's checkpoint restores; the rest of its stateDict must match the schedule's own. */
const SCHEDULE_STATE = new Set(["lastEpoch", "baseLrs", "stepCount", "lastLr"]);

/** Configuration rather than state: strings, objects and arrays holding objects. */
function isConfig(v: unknown): boolean {
  if (typeof v === "string") return true;
  if (v === null || typeof v !== "object") return false;
  return !Array.isArray(v) || v.some((e) => e !== null && typeof e === "object" && !Array.isArray(e));
}

/** Whether a value from a file equals a configuration value; recursion follows `cur` (small), never the file's nesting. */
function sameConfig(cur: unknown, v: unknown): boolean {
  if (cur === null || typeof cur !== "object") return Object.is(cur, v) || (typeof cur === "number" && !Number.isFinite(cur) && v === null);
  if (v === null || typeof v !== "object" || Array.isArray(cur) !== Array.isArray(v)) return false;
  const a = Object.keys(cur),
    b = Object.keys(v);
  return (
    a.length === b.length &&
    a.every(
      (k) =>
        Object.prototype.hasOwnProperty.call(v, k) && sameConfig((cur as Record<string, unknown>)[k], (v as Record<string, unknown>)[k]),
    )
  );
}

type AnyOptimizer = Optimizer<{ lr: number }>;
type Group = { lr: number; initialLr?: number; [k: string]: unknown };

/**
 * Base of the epoch-indexed schedules: construction records each group's `initialLr` and applies the
 * epoch-0 rate; call `step()` once per epoch (after `optimizer.step()`), as in PyTorch.
 */
export abstract class LRScheduler {
  lastEpoch: number;
  readonly baseLrs: number[];
  protected stepCount = 0;
  private lastLr: number[] = [];

  constructor(
    readonly optimizer: AnyOptimizer,
    lastEpoch = -1,
  ) {
    const groups = optimizer.paramGroups as Group[];
    if (lastEpoch === -1) for (const g of groups) g.initialLr = g.lr;
    else if (groups.some((g) => g.initialLr === undefined))
      throw new Error("param 'initial_lr' is not specified in param_groups when resuming an optimizer");
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** Call at the end of the subclass constructor (PyTorch's initial step). */
  protected initialStep(): void {
    this.step();
  }

  protected get groups(): Group[] {
    return this.optimizer.paramGroups as Group[];
  }

  /** The rates for `lastEpoch`, computed from the current ones (PyTorch's chainable form). */
  protected abstract getLr(): number[];

  /** Advance one epoch and set each group's lr. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.groups.forEach((g, i) => (g.lr = lrs[i]));
    this.lastLr = lrs;
  }

  /** The rates set by the last `step()`. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) if (k !== "optimizer") out[k] = Array.isArray(v) ? [...v] : v;
    return out;
  }

  loadStateDict(sd: Record<string, unknown>): void {
    assignState(this, this.stateDict(), sd, `${this.constructor.name}.loadStateDict`, SCHEDULE_STATE);
  }
}

/** lr ← lr·γ every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, stepSize: number, gamma?: number, lastEpoch?: number);
  constructor(optimizer: AnyOptimizer, opts: { stepSize: number; gamma?: number; lastEpoch?: number });
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    const o = schedulerArgs<{ stepSize: number; gamma?: number; lastEpoch?: number }>(
      "StepLR",
      optimizer,
      [{ name: "stepSize", check: checks.int(1), required: true }, { name: "gamma", check: checks.number() }, lastEpochParam],
      args,
    );
    super(optimizer, o.lastEpoch ?? -1);
    this.stepSize = o.stepSize;
    this.gamma = o.gamma ?? 0.1;
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/** lr ← lr·γ at each milestone epoch (a repeated milestone applies γ that many times). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: Map<number, number>;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, milestones: number[], gamma?: number, lastEpoch?: number);
  constructor(optimizer: AnyOptimizer, opts: { milestones: number[]; gamma?: number; lastEpoch?: number });
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    const epochs = (v: unknown) =>
      Array.isArray(v) && v.every((m) => Number.isSafeInteger(m) && m >= 0) ? null : "an array of epoch numbers (integers ≥ 0)";
    const o = schedulerArgs<{ milestones: number[]; gamma?: number; lastEpoch?: number }>(
      "MultiStepLR",
      optimizer,
      [{ name: "milestones", check: epochs, required: true }, { name: "gamma", check: checks.number() }, lastEpochParam],
      args,
    );
    const milestones = o.milestones;
    super(optimizer, o.lastEpoch ?? -1);
    this.gamma = o.gamma ?? 0.1;
    this.milestones = new Map();
    for (const m of milestones) this.milestones.set(m, (this.milestones.get(m) ?? 0) + 1);
    this.initialStep();
  }
  protected getLr(): number[] {
    const k = this.milestones.get(this.lastEpoch);
    if (k === undefined) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** k);
  }
  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), milestones: [...this.milestones] };
  }
}

/** lr ← lr·γ every epoch. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, gamma: number, lastEpoch?: number);
  constructor(optimizer: AnyOptimizer, opts: { gamma: number; lastEpoch?: number });
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    const o = schedulerArgs<{ gamma: number; lastEpoch?: number }>(
      "ExponentialLR",
      optimizer,
      [{ name: "gamma", check: checks.number(), required: true }, lastEpochParam],
      args,
    );
    super(optimizer, o.lastEpoch ?? -1);
    this.gamma = o.gamma;
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/**
 * Cosine annealing (Loshchilov & Hutter 2017, without restarts): η_t = η_min + ½(η₀ − η_min)(1 + cos(πt/T_max)),
 * computed recursively from the current rate as PyTorch does (so it composes with other changes).
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, tMax: number, etaMin?: number, lastEpoch?: number);
  constructor(optimizer: AnyOptimizer, opts: { tMax: number; etaMin?: number; lastEpoch?: number });
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    // PyTorch's T_max is tMax here
    const o = schedulerArgs<{ tMax: number; etaMin?: number; lastEpoch?: number }>(
      "CosineAnnealingLR",
      optimizer,
      [{ name: "tMax", check: checks.int(1), required: true }, { name: "etaMin", check: checks.number() }, lastEpochParam],
      args,
    );
    super(optimizer, o.lastEpoch ?? -1);
    this.tMax = o.tMax;
    this.etaMin = o.etaMin ?? 0;
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((e - 1 - T) % (2 * T) === 0) {
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
}

/** Linear warm-up: the factor goes from `startFactor` to `endFactor` over `totalIters` epochs. */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, startFactor?: number, endFactor?: number, totalIters?: number, lastEpoch?: number);
  constructor(optimizer: AnyOptimizer, opts: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number });
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    const o = schedulerArgs<{ startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number }>(
      "LinearLR",
      optimizer,
      [
        { name: "startFactor", check: checks.number() },
        { name: "endFactor", check: checks.number() },
        { name: "totalIters", check: checks.int(1) },
        lastEpochParam,
      ],
      args,
    );
    const startFactor = o.startFactor ?? 1 / 3,
      endFactor = o.endFactor ?? 1;
    if (startFactor > 1 || startFactor <= 0)
      throw new RangeError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
    if (endFactor > 1 || endFactor < 0) throw new RangeError("Ending multiplicative factor expected to be between 0 and 1.");
    super(optimizer, o.lastEpoch ?? -1);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = o.totalIters ?? 5;
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return this.groups.map((g) => g.lr * s);
    if (e > n) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }
}

export interface OneCycleOptions {
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
}

/**
 * The 1cycle policy (Smith & Topin 2018): lr rises from max/divFactor to max over `pctStart` of the
 * steps, then anneals to max/(divFactor·finalDivFactor); momentum (or Adam's β1) moves inversely.
 * Step it after every batch.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly phases: { end: number; startLr: string; endLr: string; startM: string; endM: string }[];
  private readonly opts: Required<Omit<OneCycleOptions, "totalSteps" | "epochs" | "stepsPerEpoch">>;
  private readonly useBeta1: boolean;

  constructor(optimizer: AnyOptimizer, maxLr: number | number[], opts?: OneCycleOptions);
  constructor(optimizer: AnyOptimizer, opts: OneCycleOptions & { maxLr: number | number[] });
  constructor(
    optimizer: AnyOptimizer,
    maxLr: number | number[],
    totalSteps?: number | null,
    epochs?: number | null,
    stepsPerEpoch?: number | null,
    pctStart?: number,
    annealStrategy?: "cos" | "linear",
    cycleMomentum?: boolean,
    baseMomentum?: number,
    maxMomentum?: number,
    divFactor?: number,
    finalDivFactor?: number,
    threePhase?: boolean,
  );
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    const num = { check: checks.number() },
      count = { check: checks.orNull(checks.int(1)) };
    const lrs = (v: unknown) =>
      (typeof v === "number" && Number.isFinite(v)) || (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x)))
        ? null
        : "a finite number or one per parameter group";
    const { maxLr, ...bound } = schedulerArgs<OneCycleOptions & { maxLr: number | number[] }>(
      "OneCycleLR",
      optimizer,
      [
        { name: "maxLr", check: lrs, required: true },
        { name: "totalSteps", ...count },
        { name: "epochs", ...count },
        { name: "stepsPerEpoch", ...count },
        { name: "pctStart", ...num },
        { name: "annealStrategy", check: checks.oneOf("cos", "linear") },
        { name: "cycleMomentum", check: checks.bool },
        { name: "baseMomentum", ...num },
        { name: "maxMomentum", ...num },
        { name: "divFactor", ...num },
        { name: "finalDivFactor", ...num },
        { name: "threePhase", check: checks.bool },
      ],
      args,
    );
    // null is PyTorch's "not given" for the step counts
    const opts = Object.fromEntries(Object.entries(bound).filter(([, v]) => v !== null)) as OneCycleOptions;
    super(optimizer, -1);
    const o = {
      pctStart: 0.3,
      annealStrategy: "cos" as const,
      cycleMomentum: true,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
      ...opts,
    };
    this.opts = o;
    if (opts.totalSteps !== undefined) {
      if (!(opts.totalSteps > 0) || !Number.isInteger(opts.totalSteps))
        throw new RangeError(`Expected positive integer total_steps, but got ${opts.totalSteps}`);
      this.totalSteps = opts.totalSteps;
    } else {
      if (!(opts.epochs! > 0) || !(opts.stepsPerEpoch! > 0))
        throw new RangeError("You must define either total_steps OR (epochs AND steps_per_epoch)");
      this.totalSteps = opts.epochs! * opts.stepsPerEpoch!;
    }
    if (!(o.pctStart >= 0 && o.pctStart <= 1)) throw new RangeError(`Expected float between 0 and 1 pct_start, but got ${o.pctStart}`);
    const T = this.totalSteps,
      p = o.pctStart;
    this.phases = o.threePhase
      ? [
          { end: p * T - 1, startLr: "initialLr", endLr: "maxLr", startM: "maxMomentum", endM: "baseMomentum" },
          { end: 2 * p * T - 2, startLr: "maxLr", endLr: "initialLr", startM: "baseMomentum", endM: "maxMomentum" },
          { end: T - 1, startLr: "initialLr", endLr: "minLr", startM: "maxMomentum", endM: "maxMomentum" },
        ]
      : [
          { end: p * T - 1, startLr: "initialLr", endLr: "maxLr", startM: "maxMomentum", endM: "baseMomentum" },
          { end: T - 1, startLr: "maxLr", endLr: "minLr", startM: "baseMomentum", endM: "maxMomentum" },
        ];
    const maxLrs = Array.isArray(maxLr) ? maxLr : this.groups.map(() => maxLr);
    this.groups.forEach((g, i) => {
      g.initialLr = maxLrs[i] / o.divFactor;
      g.maxLr = maxLrs[i];
      g.minLr = (g.initialLr as number) / o.finalDivFactor;
    });
    this.useBeta1 = "betas" in this.groups[0];
    if (o.cycleMomentum) {
      if (!("momentum" in this.groups[0]) && !this.useBeta1)
        throw new Error("optimizer must support momentum or beta1 with `cycle_momentum` option enabled");
      for (const g of this.groups) {
        if (this.useBeta1) g.betas = [o.maxMomentum, ...(g.betas as number[]).slice(1)];
        else g.momentum = o.maxMomentum;
        g.maxMomentum = o.maxMomentum;
        g.baseMomentum = o.baseMomentum;
      }
    }
    (this as { baseLrs: number[] }).baseLrs = this.groups.map((g) => g.initialLr as number);
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.opts.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) {
      throw new RangeError(`Tried to step ${step} times. The specified number of total steps is ${this.totalSteps}`);
    }
    return this.groups.map((g) => {
      let start = 0,
        lr = g.lr;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i];
        if (step <= ph.end || i === this.phases.length - 1) {
          const pct = (step - start) / (ph.end - start);
          lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.opts.cycleMomentum) {
            const m = this.anneal(g[ph.startM] as number, g[ph.endM] as number, pct);
            if (this.useBeta1) g.betas = [m, ...(g.betas as number[]).slice(1)];
            else g.momentum = m;
          }
          break;
        }
        start = ph.end;
      }
      return lr;
    });
  }
}

export interface ReduceLROnPlateauOptions {
  /** "min": lower is better (a loss); "max": higher is better (an accuracy). Default "min". */
  mode?: "min" | "max";
  /** lr ← lr·factor on a plateau (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** "rel": improvement relative to the best (default); "abs": absolute. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr, one number or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Lower the rate when the improvement between checks falls below a threshold — the primer's rule:
 * after more than `patience` epochs whose metric is not better than best·(1 − threshold) (mode "min",
 * "rel"), lr ← max(lr·factor, minLr). Call `step(metric)` once per epoch with the validation metric.
 */
export class ReduceLROnPlateau {
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  readonly optimizer: AnyOptimizer;
  constructor(optimizer: AnyOptimizer, opts?: ReduceLROnPlateauOptions);
  constructor(
    optimizer: AnyOptimizer,
    mode?: "min" | "max",
    factor?: number,
    patience?: number,
    threshold?: number,
    thresholdMode?: "rel" | "abs",
    cooldown?: number,
    minLr?: number | number[],
    eps?: number,
  );
  constructor(optimizer: AnyOptimizer, ...args: unknown[]) {
    const minLr = (v: unknown) =>
      (typeof v === "number" && v >= 0) || (Array.isArray(v) && v.every((x) => typeof x === "number" && x >= 0))
        ? null
        : "a number ≥ 0 or one per parameter group";
    const opts = schedulerArgs<ReduceLROnPlateauOptions>(
      "ReduceLROnPlateau",
      optimizer,
      [
        { name: "mode", check: checks.oneOf("min", "max") },
        { name: "factor", check: checks.number() },
        { name: "patience", check: checks.int(0) },
        { name: "threshold", check: checks.number() },
        { name: "thresholdMode", check: checks.oneOf("rel", "abs") },
        { name: "cooldown", check: checks.int(0) },
        { name: "minLr", check: minLr },
        { name: "eps", check: checks.number() },
      ],
      args,
    );
    this.optimizer = optimizer;
    this.mode = opts.mode ?? "min";
    this.factor = opts.factor ?? 0.1;
    if (this.factor >= 1) throw new RangeError("Factor should be < 1.0.");
    this.patience = opts.patience ?? 10;
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? "rel";
    if (this.mode !== "min" && this.mode !== "max") throw new RangeError(`mode ${this.mode} is unknown!`);
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs")
      throw new RangeError(`threshold mode ${this.thresholdMode} is unknown!`);
    this.cooldown = opts.cooldown ?? 0;
    const n = optimizer.paramGroups.length;
    const m = opts.minLr ?? 0;
    if (Array.isArray(m) && m.length !== n) throw new RangeError(`expected ${n} min_lrs, got ${m.length}`);
    this.minLrs = Array.isArray(m) ? [...m] : new Array(n).fill(m);
    this.eps = opts.eps ?? 1e-8;
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === "min") return this.thresholdMode === "rel" ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === "rel" ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Record this epoch's metric and reduce the rate if it has plateaued. */
  step(metric: number): void {
    const current = Number(metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const old = g.lr;
        const next = Math.max(old * this.factor, this.minLrs[i]);
        if (old - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): Record<string, unknown> {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }

  loadStateDict(sd: Record<string, unknown>): void {
    assignState(this, this.stateDict(), sd, "ReduceLROnPlateau.loadStateDict");
    // JSON writes the initial ±Infinity as null: read it back as "no best yet" (null would compare as 0)
    if ((this.best as number | null) === null) this.best = this.mode === "min" ? Infinity : -Infinity;
  }
}
