// The fusion table (nn/fuse.ts): every rule gives the values and gradients of its steps run one by one,
// on every backend; a module with forward hooks is never fused (its hooks see every call); Sequential,
// the zoo's blocks and chain() all run through the table.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { onEveryBackend, registerWasmBackends } from "./helpers.js";
import { chain, fusionRules, type Step } from "../src/nn/fuse.js";
import { relu } from "../src/ops/math.js";
import { allocate, allocateUninit, releaseSpare, spareArrays } from "../src/tensor/dtype.js";
import { BasicBlock } from "../src/models/resnet.js";

const F = nb.nn.functional;

// the compiled wasm kernels too, when built
await registerWasmBackends();
const { assertClose } = nb.testing;

/** conv → BatchNorm → ReLU → flatten → linear, for the hook and Sequential tests. */
const convBnReluNet = () =>
  new nb.nn.Sequential(
    new nb.nn.Conv2d(2, 4, 3),
    new nb.nn.BatchNorm2d(4),
    new nb.nn.ReLU(),
    new nb.nn.Flatten(),
    new nb.nn.Linear(4 * 4 * 4, 3),
  );

/** steps run one by one, no rule applied. */
const unfused = (x: nb.Tensor, steps: Step[]) => steps.reduce((h, s) => (s instanceof nb.nn.Module ? s.forward(h) : s(h)), x);

/**
 * conv → (ReLU →) max-pool through chain against the steps one by one, on the current backend: without a
 * gradient to record the fused kernel runs (once per chain) and gives the same bits; with one, chain takes
 * the ops one by one, and values and gradients are the same.
 */
function convPoolCase(withPad: boolean, withRelu: boolean, backend: string) {
  countingConvMaxPool((count) => {
    const g = new nb.Generator(12);
    const cases: [number[], number, number, nb.nn.Conv2dLayerOptions, number, nb.nn.MaxPool2dLayerOptions][] = [
      // LeNet-5's layers at a batch of 40 (several chunks of the kernel's scratch, the last one partial)
      [[40, 1, 32, 32], 6, 5, {}, 2, {}],
      [[40, 6, 14, 14], 16, 5, {}, 2, {}],
      // padding, stride, dilation, groups, no bias; overlapping, padded and ceil-mode windows
      [[3, 4, 11, 9], 6, 3, { padding: 1, groups: 2, bias: false }, 3, { stride: 2, padding: 1, ceilMode: true }],
      [[2, 3, 12, 13], 8, 3, { stride: 2, dilation: 2, padding: 2 }, 2, { stride: 1 }],
      [[2, 3, 10, 10], 5, 4, { padding: "same" }, 2, { dilation: 2 }], // 'same' with an even kernel pads the far side
      [[2, 8, 9, 9], 16, 3, { padding: 1 }, 2, {}], // a Winograd-sized layer
    ];
    for (const dtype of ["float32", "float64"] as const) {
      for (let [shape, out, k, convOpts, pk, poolOpts] of cases) {
        // with a pad step: LeNet-5's 28 → 32 on its first layer, an uneven one on the others (not before 'same')
        if (withPad && convOpts.padding === "same") continue;
        const lenet1 = shape[1] === 1;
        const pad = withPad ? new nb.nn.ZeroPad2d(lenet1 ? 2 : [1, 0, 2, 1]) : null;
        if (pad && lenet1) shape = [40, 1, 28, 28];
        const msg = `${backend} ${dtype} ${pad ? `pad ${pad.padding} ` : ""}${shape} → ${out}, kernel ${k} ${JSON.stringify(convOpts)}, pool ${pk} ${JSON.stringify(poolOpts)}`;
        nb.manualSeed(5);
        const conv = new nb.nn.Conv2d(shape[1], out, k, { ...convOpts, dtype });
        const pool = new nb.nn.MaxPool2d(pk, poolOpts);
        // a few NaNs and many negative values
        const x = nb.randn(shape, { generator: g, dtype });
        x.data[7] = Number.NaN;
        const steps: Step[] = [...(pad ? [pad] : []), conv, ...(withRelu ? [relu] : []), pool];
        const ref = nb.noGrad(() => unfused(x, steps));
        let before = count();
        const got = nb.noGrad(() => chain(x, ...steps));
        assert.equal(count() - before, 1, `${msg}: one fused kernel call`);
        assert.equal(got.gradFn, null, msg);
        assertClose(got, ref, { rtol: 0, atol: 0, equalNan: true, msg });
        // with a gradient to record: the ops one by one
        const xi = x.detach().requiresGrad_();
        const up = nb.randn(ref.shape, { generator: g, dtype });
        const grads = (f: () => nb.Tensor) => {
          conv.zeroGrad();
          xi.grad = null;
          const y = f();
          y.mul(up).sum().backward();
          return [y.detach(), xi.grad!, conv.weight.grad!];
        };
        const r = grads(() => unfused(xi, steps));
        before = count();
        const c = grads(() => chain(xi, ...steps));
        assert.equal(count() - before, 0, `${msg}: not fused while recording`);
        c.forEach((t, i) => assertClose(t, r[i], { rtol: 0, atol: 0, equalNan: true, msg: `${msg} recorded, output ${i}` }));
      }
    }
  });
}

/** fn(count) with the current backend's fused kernel `kernel` counted: count() is its calls so far. */
function countingFused(kernel: "convMaxPool" | "linear", fn: (count: () => number) => void): void {
  const fused = nb.backend.getBackend().fused as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = fused[kernel];
  let calls = 0;
  fused[kernel] = (...a) => {
    calls++;
    return original(...a);
  };
  try {
    fn(() => calls);
  } finally {
    fused[kernel] = original;
  }
}
const countingConvMaxPool = (fn: (count: () => number) => void) => countingFused("convMaxPool", fn);

/**
 * Linear (→ ReLU) against the ops one by one (matmul, bias add, relu: the recorded forward), on the
 * current backend: with nothing to record, one fused kernel call and the same bits; with a gradient to
 * record, no fused call, and the same values and gradients.
 */
function linearCase(backend: string) {
  countingFused("linear", (count) => {
    const g = new nb.Generator(21);
    // LeNet-5's first classifier layer at a batch of 40, a small one without bias, a 1×1
    const cases: [number, number, number, boolean][] = [
      [40, 400, 120, true],
      [3, 7, 5, false],
      [1, 1, 1, true],
    ];
    for (const dtype of ["float32", "float64"] as const) {
      for (const [m, k, n, bias] of cases) {
        nb.manualSeed(6);
        const lin = new nb.nn.Linear(k, n, { bias, dtype });
        const x = nb.randn([m, k], { generator: g, dtype });
        x.data[Math.min(5, x.numel() - 1)] = Number.NaN;
        const up = nb.randn([m, n], { generator: g, dtype });
        for (const r of [null, relu, new nb.nn.ReLU()]) {
          const steps: Step[] = r ? [lin, r] : [lin];
          const msg = `${backend} ${dtype} [${m}, ${k}] → ${n} bias=${bias} ${r === null ? "Linear" : r === relu ? "Linear → relu()" : "Linear → ReLU"}`;
          // the ops one by one: recording a gradient, chain runs matmul, the bias add and relu
          const xi = x.detach().requiresGrad_();
          let before = count();
          const ref = chain(xi, ...steps);
          ref.mul(up).sum().backward();
          assert.equal(count() - before, 0, `${msg}: not fused while recording`);
          assert.ok(xi.grad && lin.weight.grad, `${msg}: the recorded forward has its gradients`);
          before = count();
          const got = nb.noGrad(() => chain(x, ...steps));
          assert.equal(count() - before, 1, `${msg}: one fused kernel call`);
          assert.equal(got.gradFn, null, msg);
          assertClose(got, ref.detach(), { rtol: 0, atol: 0, equalNan: true, msg });
        }
      }
    }
  });
}

/** One equivalence case per rule, keyed by the rule's name: a rule added without a case fails below. */
const ruleCases: Record<string, () => void> = {
  "ZeroPad2d → Conv2d → ReLU → MaxPool2d": () => onEveryBackend((backend) => convPoolCase(true, true, backend)),
  "ZeroPad2d → Conv2d → MaxPool2d": () => onEveryBackend((backend) => convPoolCase(true, false, backend)),
  "Conv2d → ReLU → MaxPool2d": () => onEveryBackend((backend) => convPoolCase(false, true, backend)),
  "Conv2d → MaxPool2d": () => onEveryBackend((backend) => convPoolCase(false, false, backend)),
  "Linear → ReLU": () => onEveryBackend((backend) => linearCase(backend)),
  "BatchNorm → ReLU": () => {
    const g = new nb.Generator(8);
    onEveryBackend((backend) => {
      for (const dtype of ["float32", "float64"] as const) {
        for (const [shape, Bn] of [
          [[16, 8, 6, 6], nb.nn.BatchNorm2d],
          [[32, 12], nb.nn.BatchNorm1d],
        ] as const) {
          const c = shape[1];
          const x = nb.randn([...shape], { generator: g, dtype }).mul(2),
            up = nb.randn([...shape], { generator: g, dtype });
          for (const training of [true, false]) {
            for (const r of [relu, new nb.nn.ReLU()]) {
              const run = (fused: boolean) => {
                nb.manualSeed(1);
                const bn = new Bn(c, { dtype });
                nb.nn.init.normal(bn.weight!);
                nb.nn.init.normal(bn.bias!);
                bn.train(training);
                const xi = x.detach().requiresGrad_();
                const y = fused ? chain(xi, bn, r) : unfused(xi, [bn, r]);
                y.mul(up).sum().backward();
                return {
                  y,
                  fn: y.gradFn?.name,
                  tensors: [y.detach(), xi.grad!, bn.weight!.grad!, bn.bias!.grad!, bn.runningMean!, bn.runningVar!],
                };
              };
              const ref = run(false),
                got = run(true);
              const msg = `${backend} ${dtype} ${shape} training=${training} ${r === relu ? "relu()" : "ReLU"}`;
              assert.equal(got.fn, "batchNorm", `${msg}: the pair ran as one primitive`);
              const tol = dtype === "float32" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-12, atol: 1e-12 };
              got.tensors.forEach((t, i) =>
                assertClose(t, ref.tensors[i], { ...(i === 0 || i >= 4 ? { rtol: 0, atol: 0 } : tol), msg: `${msg} output ${i}` }),
              );
            }
          }
        }
      }
    });
  },
  "ReLU → MaxPool2d": () => {
    const g = new nb.Generator(4);
    onEveryBackend((backend) => {
      for (const [k, opts] of [
        [2, {}],
        [3, { stride: 2, padding: 1, ceilMode: true }],
      ] as const) {
        // integers in [-3, 2]: many ties, many all-negative windows; a few NaNs
        const vals = nb.randint(-3, 3, [3, 4, 9, 11], { generator: g }).toArray().flat(3) as number[];
        vals.forEach((v, i) => {
          if (i % 53 === 7) vals[i] = Number.NaN;
        });
        const x = nb.tensor(vals).reshape([3, 4, 9, 11]);
        for (const r of [relu, new nb.nn.ReLU()]) {
          const pool = new nb.nn.MaxPool2d(k, opts);
          const run = (fused: boolean) => {
            const xi = x.detach().requiresGrad_();
            const y = fused ? chain(xi, r, pool) : F.maxPool2d(xi.relu(), k, opts);
            y.mul(nb.arange(0, y.numel(), 1).reshape(y.shape))
              .sum()
              .backward(); // a distinct gradient per window
            return [y, xi.grad!];
          };
          const ref = run(false);
          run(true).forEach((t, i) =>
            assertClose(t, ref[i], { rtol: 0, atol: 0, equalNan: true, msg: `${backend} kernel ${k} output ${i}` }),
          );
        }
      }
    });
  },
};

for (const rule of fusionRules) {
  test(`fusion rule ${rule.name}: the same values, gradients and state as its steps one by one, on every backend`, () => {
    const run = ruleCases[rule.name];
    assert.ok(run, `no equivalence case for the fusion rule '${rule.name}'`);
    run();
  });
}

test("a module with forward hooks is not fused: its hooks see every call; removing them fuses again", () => {
  nb.manualSeed(3);
  const seq = convBnReluNet();
  const x = nb.randn([5, 2, 6, 6]).requiresGrad_();
  const bnOut = () => chain(x, seq.at(0), seq.at(1), seq.at(2));
  assert.equal(bnOut().gradFn?.name, "batchNorm", "fused without hooks");
  const seen: string[] = [];
  const h1 = seq.at(1).registerForwardHook((m, _in, out) => {
    seen.push(`${m.constructor.name} ${out.shape}`);
  });
  const h2 = seq.at(2).registerForwardHook(() => {
    seen.push("ReLU");
  });
  assert.equal(bnOut().gradFn?.name, "relu", "not fused while hooks are registered");
  seq.forward(x);
  assert.deepEqual(seen, ["BatchNorm2d 5,4,4,4", "ReLU", "BatchNorm2d 5,4,4,4", "ReLU"]);
  h1.remove();
  h2.remove();
  assert.equal(bnOut().gradFn?.name, "batchNorm", "fused again after the hooks are removed");
  assert.equal(seq.at(1).hasForwardHooks(), false);
});

test("a forward hook's return value replaces the output", () => {
  const lin = new nb.nn.Linear(3, 2);
  const h = lin.registerForwardHook((_m, _in, out) => out.mul(0));
  assertClose(lin.forward(nb.ones([1, 3])), [[0, 0]], { rtol: 0, atol: 0 });
  h.remove();
  assert.notDeepEqual(lin.forward(nb.ones([1, 3])).toArray(), [[0, 0]]);
});

test("Sequential and the zoo's blocks run BatchNorm → ReLU fused; summary() (hooks) still lists every layer", () => {
  nb.manualSeed(3);
  const seq = convBnReluNet();
  const x = nb.randn([5, 2, 6, 6]);
  seq.eval();
  assertClose(seq.forward(x), unfused(x, seq.children()), { rtol: 0, atol: 0, msg: "eval" });
  const s = nb.summary(seq, [2, 6, 6]);
  assert.deepEqual(
    s.layers.map((l) => l.type),
    ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear"],
  );
  assert.equal(seq.at(1).hasForwardHooks(), false, "summary removed its hooks");
  // a BasicBlock's conv → BN → ReLU is one batchNorm node feeding conv2: no relu node reads a batchNorm node
  nb.manualSeed(4);
  const out = new BasicBlock(4, 4).forward(nb.randn([2, 4, 5, 5]).requiresGrad_());
  const seen = new Set<unknown>(),
    names: string[] = [];
  const walk = (n: { name: string; inputs: readonly nb.Tensor[] } | null) => {
    if (!n || seen.has(n)) return;
    seen.add(n);
    names.push(n.name);
    if (n.name === "relu") assert.ok(!n.inputs.some((t) => t.gradFn?.name === "batchNorm"), "an unfused BatchNorm → ReLU pair");
    for (const t of n.inputs) walk(t.gradFn);
  };
  walk(out.gradFn);
  assert.equal(names.filter((n) => n === "batchNorm").length, 2, `graph ${names.join(" ")}`);
});

test("chain counts a plain Sequential as its layers: LeNet-5 on 28×28 inputs runs pad → conv → ReLU → pool as one kernel per block", () => {
  onEveryBackend((backend) => {
    nb.manualSeed(6);
    const model = nb.models.lenet5();
    model.eval();
    const x = nb.randn([16, 1, 28, 28]);
    countingConvMaxPool((count) => {
      let got: nb.Tensor | null = null;
      // nb.backend.convAlgorithms still lists the fused convolutions (conv1 on the padded input, as pad → conv)
      const algos = nb.backend.convAlgorithms(() => {
        got = nb.noGrad(() => model.forward(x));
      });
      assert.equal(count(), 2, `${backend}: two fused calls`);
      assert.deepEqual(
        algos.map((r) => [r.pass, r.input, r.backend]),
        [
          ["forward", [16, 1, 32, 32], backend],
          ["forward", [16, 6, 14, 14], backend],
        ],
      );
      assert.ok(
        algos.every((r) => r.algorithm !== "unreported"),
        JSON.stringify(algos),
      );
      const f = model.features;
      const ref = nb.noGrad(() => model.classifier.forward(unfused(F.pad(x, [2, 2, 2, 2]), f.children())));
      assertClose(got!, ref, { rtol: 0, atol: 0, msg: backend });
      // a hook on the Sequential: it runs as one step (its hook sees its call), its layers still fuse inside
      const seen: number[][] = [];
      const h = f.registerForwardHook((_m, _in, out) => {
        seen.push([...out.shape]);
      });
      assertClose(
        nb.noGrad(() => model.forward(x)),
        ref,
        { rtol: 0, atol: 0, msg: `${backend} hooked` },
      );
      h.remove();
      assert.deepEqual(seen, [[16, 16, 5, 5]]);
      assert.equal(count(), 4, `${backend}: the hooked Sequential's own chain fuses its two blocks`);
    });
  });
});

test("ZeroPad2d: torch.nn.ZeroPad2d's argument forms, printout and values; bad padding is a TypeError", () => {
  const x = nb.arange(0, 6, 1).reshape([1, 1, 2, 3]);
  assertClose(new nb.nn.ZeroPad2d(1).forward(x), F.pad(x, [1, 1, 1, 1]), { rtol: 0, atol: 0 });
  const p = new nb.nn.ZeroPad2d([1, 0, 2, -1]);
  assert.deepEqual(p.forward(x).shape, [1, 1, 3, 4]);
  assertClose(p.forward(x), F.pad(x, [1, 0, 2, -1]), { rtol: 0, atol: 0 });
  assert.deepEqual(new nb.nn.ZeroPad2d({ padding: 2 }).padding, [2, 2, 2, 2]);
  assert.equal(String(new nb.nn.ZeroPad2d(2)), "ZeroPad2d((2, 2, 2, 2))");
  assert.throws(() => new nb.nn.ZeroPad2d([1, 2] as never), TypeError);
  assert.throws(() => new nb.nn.ZeroPad2d(1.5), TypeError);
});

test("spare arrays: releaseSpare keeps whole float arrays of 16 KB or more, at most 2 of a length; allocateUninit takes them, allocate never", () => {
  spareArrays().forEach((s) => allocateUninit(s instanceof Float32Array ? "float32" : "float64", s.length)); // what earlier tests left
  assert.deepEqual(spareArrays(), []);
  const a = new Float32Array(8192),
    b = new Float32Array(8192),
    c = new Float32Array(8192);
  for (const r of [a, b, c, a, new Float32Array(100), new Int32Array(8192), new Float32Array(new ArrayBuffer(65536), 4, 8192)])
    releaseSpare(r);
  assert.deepEqual(spareArrays(), [a, b], "two of one length, no repeat, none small, int32 or a view");
  assert.notEqual(allocate("float32", 8192), b, "allocate gives zeros: a new array");
  assert.equal(allocateUninit("float64", 8192) instanceof Float64Array, true, "another type: a new array");
  assert.equal(allocateUninit("float32", 8192), b);
  assert.equal(allocateUninit("float32", 8192), a);
  assert.notEqual(allocateUninit("float32", 8192), a, "taken once");
  assert.deepEqual(spareArrays(), []);
});

test("chain hands back only intermediates no one can reach: not its input, a view of it, what a user's module keeps, nor while recording or tracing", () => {
  nb.manualSeed(9);
  /** A user's module that keeps its input and returns a new tensor. */
  class Keeper extends nb.nn.Module {
    kept: nb.Tensor[] = [];
    forward(x: nb.Tensor): nb.Tensor {
      this.kept.push(x);
      return x.mul(2);
    }
  }
  const keeper = new Keeper();
  const seq = new nb.nn.Sequential(
    new nb.nn.Conv2d(2, 4, 3),
    new nb.nn.ReLU(),
    new nb.nn.MaxPool2d(2), // conv → ReLU → pool: one fused kernel, then its output …
    new nb.nn.Conv2d(4, 8, 3, { padding: 1 }), // … read into a new array here: handed back
    keeper, // keeps this conv's output: never handed back
    new nb.nn.Flatten(), // a view of the keeper's output
    new nb.nn.Linear(8 * 16 * 16, 1000),
    new nb.nn.ReLU(), // Linear → ReLU fused: its output is read by the next Linear …
    new nb.nn.Linear(1000, 3), // … and handed back
  );
  const x = nb.randn([8, 2, 34, 34]);
  const steps = seq.children();
  const reference = nb.noGrad(() => unfused(x, steps)); // step by step: no chain, no spare
  const drain = () => spareArrays().forEach((a) => allocateUninit(a instanceof Float32Array ? "float32" : "float64", a.length));
  drain();
  const inputCopy = x.data.slice();
  const runs = [0, 1, 2].map(() => nb.noGrad(() => seq.forward(x)));
  runs.forEach((y, i) => assertClose(y, reference, { rtol: 0, atol: 0, msg: `run ${i}: the same bits with reused arrays` }));
  assert.deepEqual(x.data, inputCopy, "the chain's input is untouched");
  const spareLengths = spareArrays()
    .map((a) => a.length)
    .sort((p, q) => p - q);
  assert.deepEqual(spareLengths, [8 * 1000, 8 * 4 * 16 * 16], "the pooled map and the first Linear's output are handed back");
  const kept = new Set(keeper.kept.map((t) => t.data.buffer));
  for (const a of spareArrays()) {
    assert.ok(!kept.has(a.buffer), "an array the user's module kept is never a spare");
    assert.ok(a.buffer !== x.data.buffer && !runs.some((y) => y.data.buffer === a.buffer), "nor the input or an output");
  }
  // what the keeper kept still holds its values: the second conv's outputs, unchanged by later runs
  const conv2Out = nb.noGrad(() => unfused(x, steps.slice(0, 4)));
  keeper.kept.forEach((t, i) => assertClose(t, conv2Out, { rtol: 0, atol: 0, msg: `kept input ${i}` }));
  // recording a gradient or tracing an export: nothing is handed back
  drain();
  seq.forward(x.detach().requiresGrad_());
  seq.forward(x); // grad mode on, nothing requires grad: still not handed back (chain only reuses under noGrad)
  nb.onnx.export(seq, x);
  assert.deepEqual(spareArrays(), [], "no spare from a recorded forward or a trace");
  // a user's step may return something else than a tensor (a pair, here): chain passes it on
  const pair = (h: nb.Tensor) => ({ pair: [h, h] }) as unknown as nb.Tensor;
  const got = nb.noGrad(() => chain(nb.randn([8, 2048]), new nb.nn.Linear(2048, 8), pair)) as unknown as { pair: nb.Tensor[] };
  assert.deepEqual(got.pair[0].shape, [8, 8]);
});
