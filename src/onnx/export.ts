// nb.onnx.export: a model's eval-mode forward, traced once on an example input, written as an ONNX graph.
//
// The trace (ops/trace.ts) reports each composite op with an ONNX meaning (batch norm, pooling, linear,
// softmax, LRN, flatten, …) once, and each primitive model code runs between them (conv2d, add, cat,
// reshape, relu, …). Each becomes one or a few ONNX nodes; parameters and buffers become initializers
// under their state-dict names, other constants initializers named const_<k>. Anything without a
// mapping, or a value computed by a step the trace cannot see (a comparison, an index), is an
// ExportError naming the op and the module path — never a silent wrong graph.

import type { Module } from "../nn/module.js";
import { Tensor } from "../tensor/tensor.js";
import { noGrad } from "../autograd/engine.js";
import type { ConvGeometry, Im2colGeometry } from "../backend/backend.js";
import { withTrace, type TraceSink } from "../ops/trace.js";
import { adaptiveMatrix } from "../ops/conv_pool.js";
import { bindArgs, checks, type Param } from "../ops/args.js";
import { DataType, graph, model as modelProto, node, tensor, valueInfo, type AttrValue, type Message } from "./proto.js";

export interface ExportOptions {
  /** The ONNX opset of the default domain, 13–17 (default 17). */
  opsetVersion?: number;
  /** Make the first dimension of the input and output symbolic ("batch"), so any batch size runs (default false). */
  dynamicBatch?: boolean;
  /** The graph input's name (default ["input"]). */
  inputNames?: string[];
  /** The graph output's name (default ["output"]). */
  outputNames?: string[];
  /** Strings stored in the model's metadata_props (onnxruntime and Netron show them). */
  metadata?: Record<string, string>;
}

/** A model or op the exporter cannot express; the message names the op and the module path. */
export class ExportError extends Error {
  override name = "ExportError";
}

const VERSION = "0.1.0";

const names = (v: unknown) =>
  Array.isArray(v) && v.length === 1 && typeof v[0] === "string" && v[0].length > 0 ? null : "an array of one non-empty string";
const PARAMS: Param[] = [
  { name: "opsetVersion", check: checks.int(13), keywordOnly: true },
  { name: "dynamicBatch", check: checks.bool, keywordOnly: true },
  { name: "inputNames", check: names, keywordOnly: true },
  { name: "outputNames", check: names, keywordOnly: true },
  {
    name: "metadata",
    check: (v) =>
      typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string")
        ? null
        : "an object of strings",
    keywordOnly: true,
  },
];

const elemType = (t: Tensor) => {
  if (t.dtype === "float32") return DataType.FLOAT;
  if (t.dtype === "float64") return DataType.DOUBLE;
  return DataType.INT32;
};

/** The tensor's bytes (little-endian, as ONNX's raw_data), viewed: the model's bytes are assembled before export returns. */
const rawBytes = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function int64Raw(vs: readonly number[]): Uint8Array {
  const b = new Uint8Array(8 * vs.length);
  const dv = new DataView(b.buffer);
  vs.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return b;
}

/** The graph under construction. */
class Builder {
  readonly nodes: Message[] = [];
  readonly initializers: Message[] = [];
  private readonly valueNames = new Map<Tensor, string>();
  private readonly opaque = new Map<Tensor, string>();
  private counter = 0;
  /** The module path of the op being traced (maintained by forward pre-hooks / hooks). */
  readonly path: string[] = [];

  constructor(
    private readonly params: Map<Tensor, string>,
    readonly batch: number,
    readonly dynamicBatch: boolean,
  ) {}

  where(): string {
    const p = this.path[this.path.length - 1];
    return p === undefined || p === "" ? "the model's own forward" : `module '${p}'`;
  }

  fail(what: string): never {
    throw new ExportError(`nb.onnx.export: ${what} (in ${this.where()})`);
  }

  bind(t: Tensor, name: string): void {
    this.valueNames.set(t, name);
  }

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** The op types in order (export compares two traces' ops). */
  readonly opTypes: string[] = [];
  /** The constants in the order the trace met them (export compares two traces' constants). */
  readonly constants: Tensor[] = [];

  /** A constant initializer. */
  constant(t: Tensor): string {
    const name = `const_${this.counter++}`;
    this.constants.push(t);
    this.initializers.push(tensor(name, elemType(t), t.shape, rawBytes(t)));
    return name;
  }

  ints(vs: readonly number[]): string {
    const name = `const_${this.counter++}`;
    this.initializers.push(tensor(name, DataType.INT64, [vs.length], int64Raw(vs)));
    return name;
  }

  scalarLike(like: Tensor, v: number): string {
    return this.constant(new Tensor(like.dtype === "float64" ? Float64Array.of(v) : Float32Array.of(v), []));
  }

  /** The graph name of a value an op reads. */
  ref(t: Tensor | null): string {
    if (t === null) return "";
    const known = this.valueNames.get(t);
    if (known !== undefined) return known;
    const why = this.opaque.get(t);
    if (why !== undefined)
      this.fail(`a value computed by '${why}' (which has no ONNX equivalent here) feeds the graph; it would be frozen as a constant`);
    const param = this.params.get(t);
    const name = param ?? this.constant(t);
    if (param !== undefined) this.initializers.push(tensor(param, elemType(t), t.shape, rawBytes(t)));
    this.valueNames.set(t, name);
    return name;
  }

  /** Append a node; its single output is `out` (bound to a fresh name) or a fresh intermediate name. */
  emit(opType: string, inputs: readonly string[], out: Tensor | null, attrs: Record<string, AttrValue> = {}): string {
    const name = this.fresh(opType);
    this.opTypes.push(opType);
    const y = out && this.valueNames.get(out) === undefined ? name : this.fresh(opType);
    this.nodes.push(node(opType, inputs, [y], name, attrs));
    if (out) this.valueNames.set(out, y);
    return y;
  }

  /** The target shape of a reshape / expand, the batch dimension kept symbolic where it is the batch. */
  private shapeWithBatch(from: Tensor, to: readonly number[], keep: number): number[] {
    const s = [...to];
    if (this.dynamicBatch && from.shape[0] === this.batch && s[0] === this.batch) s[0] = keep;
    return s;
  }

  prim(name: string, inputs: readonly Tensor[], out: Tensor, a: object): void {
    const attrs = a as Record<string, unknown>;
    const x = inputs[0];
    const unary: Record<string, string> = {
      neg: "Neg",
      exp: "Exp",
      log: "Log",
      sqrt: "Sqrt",
      abs: "Abs",
      sign: "Sign",
      relu: "Relu",
      sigmoid: "Sigmoid",
      tanh: "Tanh",
      softplus: "Softplus",
    };
    const binary: Record<string, string> = { add: "Add", sub: "Sub", mul: "Mul", div: "Div", pow: "Pow", maximum: "Max", minimum: "Min" };
    if (name in unary) {
      this.emit(unary[name], [this.ref(x)], out);
      return;
    }
    if (name in binary) {
      this.emit(binary[name], [this.ref(x), this.ref(inputs[1])], out);
      return;
    }
    switch (name) {
      case "log1p":
        this.emit("Log", [this.emit("Add", [this.ref(x), this.scalarLike(x, 1)], null)], out);
        return;
      case "cast":
        this.emit("Cast", [this.ref(x)], out, { to: elemType(out) });
        return;
      case "clamp":
        this.emit("Clip", [this.ref(x), this.scalarLike(x, attrs.min as number), this.scalarLike(x, attrs.max as number)], out);
        return;
      case "where":
        this.emit(
          "Where",
          inputs.map((t) => this.ref(t)),
          out,
        );
        return;
      case "sum": {
        const dims = attrs.dims as number[];
        if (dims.length === 0) this.emit("Identity", [this.ref(x)], out);
        else this.emit("ReduceSum", [this.ref(x), this.ints(dims)], out, { keepdims: attrs.keepdim ? 1 : 0 });
        return;
      }
      case "maxDim":
        this.emit(attrs.isMax ? "ReduceMax" : "ReduceMin", [this.ref(x)], out, {
          axes: [attrs.dim as number],
          keepdims: attrs.keepdim ? 1 : 0,
        });
        return;
      case "reshape":
        this.emit("Reshape", [this.ref(x), this.ints(this.shapeWithBatch(x, out.shape, 0))], out);
        return;
      case "permute":
        this.emit("Transpose", [this.ref(x)], out, { perm: attrs.perm as number[] });
        return;
      case "expand":
        this.emit("Expand", [this.ref(x), this.ints(this.shapeWithBatch(x, out.shape, 1))], out);
        return;
      case "slice": {
        const { dim, start, step, length } = attrs as { dim: number; start: number; step: number; length: number };
        const end = start + step * (length - 1) + 1;
        this.emit("Slice", [this.ref(x), this.ints([start]), this.ints([end]), this.ints([dim]), this.ints([step])], out);
        return;
      }
      case "pad": {
        const pads = attrs.pads as [number, number][];
        const value = attrs.value as number;
        const flat = [...pads.map((p) => p[0]), ...pads.map((p) => p[1])];
        this.emit("Pad", [this.ref(x), this.ints(flat), this.scalarLike(x, value)], out, { mode: "constant" });
        return;
      }
      case "cat":
        this.emit(
          "Concat",
          inputs.map((t) => this.ref(t)),
          out,
          { axis: attrs.dim as number },
        );
        return;
      case "matmul": {
        const t = (v: Tensor, yes: unknown) => {
          if (!yes) return this.ref(v);
          const perm = v.shape.map((_, i) => i);
          [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
          return this.emit("Transpose", [this.ref(v)], null, { perm });
        };
        this.emit("MatMul", [t(x, attrs.transA), t(inputs[1], attrs.transB)], out);
        return;
      }
      case "conv2d": {
        const g = attrs.geom as ConvGeometry;
        this.emit(
          "Conv",
          inputs.map((t) => this.ref(t)),
          out,
          {
            kernel_shape: [g.kh, g.kw],
            strides: [g.sh, g.sw],
            pads: [g.ph, g.pw, g.ph, g.pw],
            dilations: [g.dh, g.dw],
            group: g.groups,
          },
        );
        return;
      }
    }
    this.fail(`the primitive '${name}' has no ONNX mapping`);
  }

  op(name: string, inputs: readonly (Tensor | null)[], out: Tensor, a: object): void {
    const attrs = a as Record<string, unknown>;
    const x = inputs[0]!;
    switch (name) {
      case "batchNorm": {
        if (attrs.training)
          this.fail("BatchNorm in training mode (batch statistics) cannot be exported; export runs the model in eval mode");
        const [, w, b, mean, variance] = inputs;
        const c = x.shape[1];
        const filled = (t: Tensor | null, v: number) =>
          t ? this.ref(t) : this.constant(new Tensor(new (x.dtype === "float64" ? Float64Array : Float32Array)(c).fill(v), [c]));
        const y = this.emit(
          "BatchNormalization",
          [this.ref(x), filled(w, 1), filled(b, 0), this.ref(mean), this.ref(variance)],
          attrs.relu ? null : out,
          { epsilon: { float: attrs.eps as number } },
        );
        if (attrs.relu) this.emit("Relu", [y], out);
        return;
      }
      case "maxPool2d":
      case "avgPool2d": {
        const g = attrs.g as Im2colGeometry;
        const avg = name === "avgPool2d";
        if (avg && attrs.divisorOverride !== null) this.fail("avgPool2d with divisorOverride has no ONNX equivalent");
        const include = avg && attrs.countIncludePad === true;
        // ONNX's ceil mode keeps a last window that starts in the end padding; PyTorch drops it. Where the two
        // sizes differ, floor mode with the end padding widened to PyTorch's last window gives PyTorch's
        // windows exactly (padding is −∞ for max and not counted by an average that excludes padding).
        let ceil = attrs.ceilMode ? 1 : 0;
        let pads = [g.ph, g.pw, g.ph, g.pw];
        const span = (k: number, d: number) => (k - 1) * d + 1;
        const onnxCeil = (n: number, k: number, d: number, s: number, p: number) => Math.ceil((n + 2 * p - span(k, d)) / s) + 1;
        if (ceil && (onnxCeil(g.h, g.kh, g.dh, g.sh, g.ph) !== g.oh || onnxCeil(g.w, g.kw, g.dw, g.sw, g.pw) !== g.ow)) {
          if (include)
            this.fail(
              "avgPool2d with ceilMode and countIncludePad where PyTorch drops a last window that would start in the padding has no exact ONNX form (use countIncludePad: false or other padding)",
            );
          const end = (n: number, o: number, k: number, d: number, s: number, p: number) => Math.max(p, (o - 1) * s + span(k, d) - n - p);
          pads = [g.ph, g.pw, end(g.h, g.oh, g.kh, g.dh, g.sh, g.ph), end(g.w, g.ow, g.kw, g.dw, g.sw, g.pw)];
          ceil = 0;
        }
        const common = { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads, ceil_mode: ceil };
        if (avg) this.emit("AveragePool", [this.ref(x)], out, { ...common, count_include_pad: include ? 1 : 0 });
        else this.emit("MaxPool", [this.ref(x)], out, { ...common, dilations: [g.dh, g.dw] });
        return;
      }
      case "adaptiveAvgPool2d": {
        const { oh, ow } = attrs as { oh: number; ow: number };
        const [, , h, w] = x.shape;
        if (oh === 1 && ow === 1) this.emit("GlobalAveragePool", [this.ref(x)], out);
        else if (h % oh === 0 && w % ow === 0) {
          const k = [h / oh, w / ow];
          this.emit("AveragePool", [this.ref(x)], out, { kernel_shape: k, strides: k });
        } else {
          // uneven windows: the two averaging matrices nabla itself uses, A_h·x·A_wᵀ
          const rows = this.emit("MatMul", [this.constant(adaptiveMatrix(h, oh, x)), this.ref(x)], null);
          const awT = adaptiveMatrix(w, ow, x);
          const wt = this.emit("Transpose", [this.constant(awT)], null, { perm: [1, 0] });
          this.emit("MatMul", [rows, wt], out);
        }
        return;
      }
      case "localResponseNorm": {
        const { size, alpha, beta, k } = attrs as { size: number; alpha: number; beta: number; k: number };
        this.emit("LRN", [this.ref(x)], out, { size, alpha: { float: alpha }, beta: { float: beta }, bias: { float: k } });
        return;
      }
      case "linear": {
        const [, w, b] = inputs;
        if (x.ndim === 2) {
          this.emit("Gemm", b ? [this.ref(x), this.ref(w), this.ref(b)] : [this.ref(x), this.ref(w)], out, { transB: 1 });
          return;
        }
        const wt = this.emit("Transpose", [this.ref(w)], null, { perm: [1, 0] });
        if (!b) this.emit("MatMul", [this.ref(x), wt], out);
        else this.emit("Add", [this.emit("MatMul", [this.ref(x), wt], null), this.ref(b)], out);
        return;
      }
      case "softmax":
      case "logSoftmax":
        this.emit(name === "softmax" ? "Softmax" : "LogSoftmax", [this.ref(x)], out, { axis: attrs.dim as number });
        return;
      case "leakyRelu":
        this.emit("LeakyRelu", [this.ref(x)], out, { alpha: { float: attrs.negativeSlope as number } });
        return;
      case "flatten": {
        const { start, end } = attrs as { start: number; end: number };
        if (start === 1 && end === x.ndim - 1) this.emit("Flatten", [this.ref(x)], out, { axis: 1 });
        else this.emit("Reshape", [this.ref(x), this.ints(this.shapeWithBatch(x, out.shape, 0))], out);
        return;
      }
      case "dropout":
        this.fail("dropout in training mode (random masks) cannot be exported");
    }
    this.fail(`the op '${name}' has no ONNX mapping`);
  }

  opaqueValue(name: string, out: Tensor): void {
    this.opaque.set(out, name);
  }
}

function sameBytes(a: Tensor, b: Tensor | undefined): boolean {
  if (!b || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]) || a.dtype !== b.dtype) return false;
  const x = rawBytes(a),
    y = rawBytes(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** One eval-mode, no-grad trace of model.forward(x) into `b`; the model's training flags are restored after. */
function trace(model: Module, x: Tensor, b: Builder, inputName: string, outputName: string): { b: Builder; out: Tensor } {
  b.bind(x, inputName);
  const modes = model.modules().map((m) => [m, m.training] as const);
  const handles = model.namedModules().flatMap(([name, m]) => [
    m.registerForwardPreHook(() => {
      b.path.push(name);
    }),
    m.registerForwardHook(() => {
      b.path.pop();
    }),
  ]);
  let out: unknown;
  try {
    model.eval();
    const sink: TraceSink = { prim: b.prim.bind(b), op: b.op.bind(b), opaque: b.opaqueValue.bind(b) };
    out = noGrad(() => withTrace(sink, () => model.forward(x)));
  } finally {
    for (const h of handles) h.remove();
    for (const [m, t] of modes) m.training = t;
  }
  if (!(out instanceof Tensor)) throw new ExportError("nb.onnx.export: the model's forward must return one Tensor");
  b.nodes.push(node("Identity", [b.ref(out)], [outputName], b.fresh("Identity")));
  return { b, out };
}

/**
 * Export `model` as ONNX bytes, like `torch.onnx.export`: the forward is traced on `exampleInput` in eval
 * mode (the model's training flags are restored after), under no-grad, and once more on other values of
 * the same shape, to refuse constants computed from the input outside nabla's ops. Parameters and buffers become
 * initializers under their state-dict names. Options may also be given in PyTorch's order after the input.
 *
 * @example
 * const bytes = nb.onnx.export(model, nb.randn([1, 1, 28, 28]), { dynamicBatch: true });
 */
export function exportModel(model: Module, exampleInput: Tensor, opts?: ExportOptions): Uint8Array;
export function exportModel(model: Module, exampleInput: Tensor, ...args: unknown[]): Uint8Array {
  if (!(exampleInput instanceof Tensor)) throw new TypeError("nb.onnx.export: exampleInput must be a Tensor");
  if (typeof (model as { forward?: unknown })?.forward !== "function" || typeof model.namedModules !== "function")
    throw new TypeError("nb.onnx.export: model must be an nb.nn.Module");
  const o = bindArgs<ExportOptions>("nb.onnx.export", PARAMS, args);
  const opset = o.opsetVersion ?? 17;
  if (opset > 17) throw new RangeError(`nb.onnx.export: opsetVersion ${opset} is not supported (13–17)`);
  if (exampleInput.ndim === 0) throw new RangeError("nb.onnx.export: exampleInput must have a batch dimension");
  const inputName = o.inputNames?.[0] ?? "input";
  const outputName = o.outputNames?.[0] ?? "output";

  const params = new Map<Tensor, string>();
  for (const [k, t] of Object.entries(model.stateDict())) if (!params.has(t)) params.set(t, k);
  const run = (x: Tensor) => trace(model, x, new Builder(params, x.shape[0], o.dynamicBatch ?? false), inputName, outputName);
  const { b, out } = run(exampleInput);
  // A second trace on other values of the same shape: a constant that differs was computed from the input
  // outside nabla's ops (through .data, item(), …) and would be frozen into the graph.
  const other = run(exampleInput.mul(-0.75).add(0.5));
  if (other.b.opTypes.join() !== b.opTypes.join())
    throw new ExportError("nb.onnx.export: the model runs different ops for different input values (data-dependent control flow)");
  b.constants.forEach((c, k) => {
    const d = other.b.constants[k];
    if (!sameBytes(c, d))
      throw new ExportError(
        `nb.onnx.export: a constant of shape [${c.shape.join(", ")}] changes with the input's values: it was computed from the input outside nabla's ops (through .data or item()) and would be frozen into the graph`,
      );
  });

  const batchDim = (s: readonly number[]) => s.map((d, i) => (i === 0 && o.dynamicBatch ? "batch" : d));
  const g = graph(
    "nabla",
    b.nodes,
    b.initializers,
    [valueInfo(inputName, elemType(exampleInput), batchDim(exampleInput.shape))],
    [valueInfo(outputName, elemType(out), batchDim(out.shape))],
  );
  return modelProto(g, opset, VERSION, o.metadata ?? {});
}
