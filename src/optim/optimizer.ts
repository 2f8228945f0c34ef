// Optimizer base: param groups with per-group hyper-parameters, per-parameter state, zeroGrad,
// step(closure), and stateDict/loadStateDict in torch.optim's layout.

import { Tensor } from "../tensor/tensor.js";
import { enableGrad } from "../autograd/engine.js";
import { fmt } from "../tensor/shape.js";
import { bindArgs, checks, closest, describe, type Check, type Param } from "../ops/args.js";

/** A group of parameters with its own hyper-parameters (any option omitted takes the optimizer's default). */
export type ParamGroupInput<O> = { params: Iterable<Tensor> } & Partial<O>;
export type ParamsInput<O> = Iterable<Tensor> | ParamGroupInput<O>[];
export type ParamGroup<O> = O & { params: Tensor[] };
/** Per-parameter state: tensors (moments, buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number | unknown>;
/** A closure re-evaluates the model: it zeroes grads, computes the loss, calls backward(), returns the loss. */
export type Closure = () => Tensor | number;

export interface OptimizerStateDict {
  state: Record<number, Record<string, unknown>>;
  param_groups: Record<string, unknown>[];
}

const toSnake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const toCamel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function cloneValue(v: unknown): unknown {
  if (v instanceof Tensor) return new Tensor(v.data.slice(), v.shape);
  if (Array.isArray(v)) return v.map(cloneValue);
  return v;
}

/**
 * Base class of every optimizer. Subclasses implement `step` with their update rule and `validate`
 * with PyTorch's hyper-parameter checks.
 */
export abstract class Optimizer<O extends { lr: number }> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, keyed by the parameter tensor. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<O>, defaults: O) {
    this.validate(defaults);
    this.defaults = defaults;
    if (params === null || typeof params !== "object" || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function") {
      const got = params === null ? "null" : typeof params === "object" ? (params as object).constructor.name : typeof params;
      throw new TypeError(
        `${this.constructor.name}: params must be an iterable of Tensors or of parameter-group objects, got ${got}` +
          (got !== "null" && typeof (params as { parameters?: unknown }).parameters === "function" ? " (pass model.parameters())" : ""),
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) throw new RangeError(`${this.constructor.name}: optimizer got an empty parameter list`);
    if (list[0] instanceof Tensor) this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<O>);
    else for (const g of list as ParamGroupInput<O>[]) this.addParamGroup(g);
  }

  /** Reject invalid hyper-parameters with PyTorch's messages. */
  protected abstract validate(options: O): void;

  /** Add a group of parameters, with options overriding the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const params = [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: optimizer can only optimize Tensors, got ${typeof p}`);
      if (!p.isLeaf) throw new Error(`${this.constructor.name}: can't optimize a non-leaf Tensor (shape ${fmt(p.shape)})`);
    }
    const taken = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => taken.has(p)) || new Set(params).size !== params.length) {
      throw new Error(`${this.constructor.name}: some parameters appear in more than one parameter group`);
    }
    if (typeof group !== "object" || group === null)
      throw new TypeError(`${this.constructor.name}: a parameter group must be an object, got ${describe(group)}`);
    const known = Object.keys(this.defaults);
    for (const k of Object.keys(group)) {
      if (k === "params") continue;
      if (SCHEDULER_KEYS.includes(k)) {
        const v = (group as Record<string, unknown>)[k];
        if (!(typeof v === "number" && Number.isFinite(v) && v >= 0))
          throw new TypeError(`${this.constructor.name}: ${k} in a parameter group must be a finite number ≥ 0, got ${describe(v)}`);
        continue;
      }
      if (!known.includes(k)) {
        const hint = closest(k, known);
        throw new TypeError(
          `${this.constructor.name}: unknown option ${JSON.stringify(k)} in a parameter group${hint ? ` (did you mean ${hint}?)` : ""}; it takes ${known.join(", ")}`,
        );
      }
      const v = (group as Record<string, unknown>)[k],
        d = (this.defaults as Record<string, unknown>)[k];
      const kind = (x: unknown) => (Array.isArray(x) ? "array" : x === null ? "null" : typeof x);
      if (v !== undefined && kind(v) !== kind(d) && !(d === null || v === null))
        throw new TypeError(`${this.constructor.name}: ${k} in a parameter group must be a ${kind(d)}, got ${describe(v)}`);
    }
    const full = { ...this.defaults, ...group, params } as ParamGroup<O>;
    this.validate(full);
    this.paramGroups.push(full);
  }

  /** Reset gradients (to null by default, as PyTorch's set_to_none=True; or to zeros). */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone || p.grad === null) p.grad = null;
        else p.grad.data.fill(0);
      }
    }
  }

  /** Perform one update; with a closure, re-evaluates the loss first and returns it. */
  abstract step(closure?: Closure): number | null;

  /** Run the closure with gradients enabled and return its loss as a number. */
  protected evaluate(closure?: Closure): number | null {
    if (!closure) return null;
    const l = enableGrad(closure);
    return typeof l === "number" ? l : l.item();
  }

  /** The state of `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * The per-parameter state `step()` keeps for `p` once it has run (state name → check of its value), for
   * `loadStateDict` to refuse a state its `step()` could not use (a missing buffer, a stray name). `s` is
   * the loaded state (some optimizers keep a different set early on); null leaves it unchecked.
   */
  protected stateSpec(_group: O, _p: Tensor, _s: ParamState): StateSpec | null {
    return null;
  }

  /**
   * A snapshot in torch.optim's layout: `state` keyed by parameter index (across groups, in order) with
   * PyTorch's state names (`exp_avg`, `momentum_buffer`, `step`, …), and `param_groups` with snake_case
   * hyper-parameters and `params` as indices. Tensors are copied.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const groups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== "params") out[toSnake(k)] = cloneValue(v);
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return out;
    });
    const state: Record<number, Record<string, unknown>> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, cloneValue(v)]));
    }
    return { state, param_groups: groups };
  }

  /**
   * Restore hyper-parameters and per-parameter state from `stateDict()` output (tensors cast to each
   * parameter's dtype). Everything is checked before anything changes: the group count and sizes, each
   * group's keys (this optimizer's own, plus `initial_lr`) with the type of the current value and the
   * optimizer's own range checks, and each state value — tensors of the parameter's shape, finite numbers,
   * `step` a non-negative integer. An error is a StateDictError naming the path (`state.3.exp_avg`).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const cls = this.constructor.name;
    const fail = (path: string, detail: string): never => {
      throw new StateDictError(`${cls}.loadStateDict`, path, detail);
    };
    if (typeof sd !== "object" || sd === null) fail("", "a state dict must be an object");
    for (const k of Object.keys(sd)) if (k !== "state" && k !== "param_groups") fail(k, "unknown key");
    if (!Array.isArray(sd.param_groups)) fail("param_groups", "must be an array");
    if (typeof sd.state !== "object" || sd.state === null || Array.isArray(sd.state)) fail("state", "must be an object");
    if (sd.param_groups.length !== this.paramGroups.length) {
      fail(
        "param_groups",
        `loaded state dict has ${sd.param_groups.length} parameter groups, the optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    const groups = sd.param_groups.map((sg, gi) => {
      const at = `param_groups.${gi}`;
      if (typeof sg !== "object" || sg === null || Array.isArray(sg)) fail(at, "must be an object");
      const mine = this.paramGroups[gi] as Record<string, unknown>;
      const ids = sg.params as number[];
      if (
        !Array.isArray(ids) ||
        ids.length !== (mine.params as Tensor[]).length ||
        !ids.every((id) => Number.isSafeInteger(id) && id >= 0)
      ) {
        fail(`${at}.params`, `loaded state dict contains a parameter group that doesn't match the size of optimizer's group ${gi}`);
      }
      ids.forEach((id, k) => byIndex.set(id, (mine.params as Tensor[])[k]));
      const merged: Record<string, unknown> = { ...mine };
      for (const [k, v] of Object.entries(sg)) {
        if (k === "params") continue;
        const key = toCamel(k);
        if (!Object.prototype.hasOwnProperty.call(mine, key) && key !== "initialLr")
          fail(`${at}.${k}`, `unknown hyper-parameter for ${cls}`);
        const cur = mine[key];
        if (!sameKind(cur, v, key === "initialLr"))
          fail(`${at}.${k}`, `${preview(v)} does not have the type of the current value ${preview(cur)}`);
        if (SCHEDULER_KEYS.includes(key) && !(typeof v === "number" && Number.isFinite(v) && v >= 0))
          fail(
            `${at}.${k}`,
            `${key === "baseMomentum" || key === "maxMomentum" ? "Invalid momentum" : "Invalid learning rate"}: ${preview(v)}`,
          );
        merged[key] = cloneValue(v);
      }
      try {
        this.validate(merged as unknown as O);
      } catch (e) {
        fail(at, (e as Error).message);
      }
      return merged;
    });
    const groupOf = new Map<Tensor, Record<string, unknown>>();
    groups.forEach((g, gi) => (this.paramGroups[gi].params as Tensor[]).forEach((p) => groupOf.set(p, g)));
    const restoredAll = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(sd.state)) {
      const at = `state.${key}`;
      const p = /^\d+$/.test(key) ? byIndex.get(Number(key)) : undefined;
      if (!p) fail(at, "has no matching parameter");
      if (typeof s !== "object" || s === null || Array.isArray(s)) fail(at, "must be an object");
      const restored: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        if (k === "__proto__") fail(`${at}.${k}`, "is not a state name");
        if (v instanceof Tensor) {
          if (v.shape.length !== p!.shape.length || v.shape.some((d, i) => d !== p!.shape[i])) {
            fail(`${at}.${k}`, `shape ${fmt(v.shape)} but parameter is ${fmt(p!.shape)}`);
          }
          if (v.dtype !== p!.dtype) {
            // as PyTorch: state tensors take their parameter's dtype (an integer tensor from a file too)
            const d = new (p!.dtype === "float64" ? Float64Array : Float32Array)(v.data);
            restored[k] = new Tensor(d, v.shape);
          } else restored[k] = cloneValue(v);
        } else {
          if (!plainStateValue(v)) fail(`${at}.${k}`, `${preview(v)} is not a tensor, a finite number or an array of them`);
          if (k === "step" && !(Number.isSafeInteger(v) && (v as number) >= 0))
            fail(`${at}.${k}`, `${preview(v)} is not a non-negative integer`);
          restored[k] = cloneValue(v);
        }
      }
      const spec = Object.keys(restored).length > 0 ? this.stateSpec(groupOf.get(p!)! as unknown as O, p!, restored) : null;
      if (spec) {
        const names = Object.keys(spec);
        const keeps = `${cls} keeps ${names.join(", ")} with these settings`;
        for (const k of names) if (!Object.prototype.hasOwnProperty.call(restored, k)) fail(`${at}.${k}`, `missing (${keeps})`);
        for (const k of Object.keys(restored)) {
          if (!Object.prototype.hasOwnProperty.call(spec, k)) fail(`${at}.${k}`, `is not a state of ${cls} (${keeps})`);
          const problem = spec[k](restored[k]);
          if (problem) fail(`${at}.${k}`, problem);
        }
      }
      restoredAll.set(p!, restored);
    }
    // every check passed: apply
    groups.forEach((g, gi) => Object.assign(this.paramGroups[gi], g));
    this.state.clear();
    for (const [p, r] of restoredAll) this.state.set(p, r);
  }
}

/** An invalid state dict: `where` is the method, `path` the place inside the dict, `detail` what is wrong. */
export class StateDictError extends RangeError {
  constructor(
    readonly where: string,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${where}: ${path ? `${path}: ` : ""}${detail}`);
    this.name = "StateDictError";
  }
}

/** A loaded hyper-parameter has the kind of the current one: finite numbers, booleans, strings, arrays of as many numbers, or null. */
function sameKind(cur: unknown, v: unknown, optionalNumber: boolean): boolean {
  if (cur === undefined) return optionalNumber && typeof v === "number" && Number.isFinite(v);
  if (cur === null) return v === null || (typeof v === "number" && Number.isFinite(v));
  if (typeof cur === "number") return typeof v === "number" && (Number.isFinite(v) || !Number.isFinite(cur));
  if (typeof cur === "boolean" || typeof cur === "string") return typeof v === typeof cur;
  if (Array.isArray(cur)) return Array.isArray(v) && v.length === cur.length && v.every((e, i) => sameKind(cur[i], e, false));
  return false;
}

/** Checks of loaded per-parameter state values: each returns what is wrong, or null. */
export type StateSpec = Record<string, (v: unknown) => string | null>;

/** A state tensor (its shape was checked against the parameter). */
export const stateTensor = (v: unknown): string | null => (v instanceof Tensor ? null : "must be a tensor");
/** A step or evaluation count. */
export const stateCount = (v: unknown): string | null =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? null : "must be a non-negative integer";
/** A finite number. */
export const stateNumber = (v: unknown): string | null => (typeof v === "number" && Number.isFinite(v) ? null : "must be a finite number");

/** A non-tensor state value: a finite number, null, a Float64Array / Float32Array, or an array of these (nested at most 4 deep). */
function plainStateValue(v: unknown, depth = 0): boolean {
  if (v === null) return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (v instanceof Float64Array || v instanceof Float32Array) return true;
  if (Array.isArray(v)) return depth < 4 && v.every((e) => plainStateValue(e, depth + 1));
  return false;
}

/** A short description of a value from a file for an error message: never recurses into it, never prints more than 60 characters. */
export function preview(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Tensor) return `a tensor of shape ${fmt(v.shape)}`;
  if (v !== null && typeof v === "object") return "an object";
  const s = typeof v === "string" || v === null ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Keys the learning-rate schedulers write into parameter groups (as PyTorch's do): a group may carry them. */
const SCHEDULER_KEYS = ["initialLr", "maxLr", "minLr", "baseMomentum", "maxMomentum"];

/** A hyper-parameter that must be a number (its range is the optimizer's validate(), with PyTorch's message). */
export const hyper = (name: string, keywordOnly = false): Param => ({ name, check: checks.number(), keywordOnly });
/** A pair of numbers (Adam's betas). */
export const betasParam: Param = {
  name: "betas",
  check: (v) => (Array.isArray(v) && v.length === 2 && v.every((b) => typeof b === "number") ? null : "a pair of numbers"),
};
export const flag = (name: string, keywordOnly = false): Param => ({ name, check: checks.bool, keywordOnly });

/**
 * An optimizer's settings after `params`: torch.optim's positional order (`new SGD(params, 0.1, 0.9)`) or an
 * options object (`new SGD(params, { lr: 0.1, momentum: 0.9 })`); an unknown key or a wrong kind is a TypeError.
 */
export function optimArgs<T extends object>(cls: string, params: readonly Param[], args: readonly unknown[]): T {
  return bindArgs<T>(cls, params, args);
}
export type { Check, Param };

/** Throw PyTorch's "Invalid … value" error unless `ok`. */
export function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

/** PyTorch's checks shared by the Adam family: lr, eps and weight decay ≥ 0, both betas in [0, 1). */
export function checkAdamFamily(o: { lr: number; eps: number; weightDecay: number; betas: [number, number] }): void {
  check(o.lr >= 0, `Invalid learning rate: ${o.lr}`);
  check(o.eps >= 0, `Invalid epsilon value: ${o.eps}`);
  check(Array.isArray(o.betas) && o.betas[0] >= 0 && o.betas[0] < 1, `Invalid beta parameter at index 0: ${o.betas?.[0]}`);
  check(o.betas[1] >= 0 && o.betas[1] < 1, `Invalid beta parameter at index 1: ${o.betas[1]}`);
  check(o.weightDecay >= 0, `Invalid weight_decay value: ${o.weightDecay}`);
}

/** A zero tensor shaped and typed like `p`, for optimizer state. */
export function zerosLikeParam(p: Tensor, fill = 0): Tensor {
  const d = new (p.dtype === "float64" ? Float64Array : Float32Array)(p.data.length);
  if (fill !== 0) d.fill(fill);
  return new Tensor(d, p.shape);
}
