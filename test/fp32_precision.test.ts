// nb.backend.fp32Precision: the setting's scope (global, the per-op conv override, NABLA_FP32_PRECISION),
// "fast" convolutions (Winograd F(4×4, 3×3) on the native backend) within their documented bound of a
// float64 direct sum written out here as loops, "ieee" and float64 untouched by it, and the algorithm log.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { ROOT } from "./helpers.js";

const F = nb.nn.functional;
const native = nb.backend.getBackend().name === "native";
const noFast = !native && "the native backend is not loaded (the js backend has no faster float32 algorithm)";
/** The README's bound for "fast" float32 convolutions: max |error| ≤ FAST_BOUND · max |float64 result|, per output. */
const FAST_BOUND = 1e-5;
/** Today's float32 kernels ("ieee") stay within this of the float64 sum on the same data. */
const IEEE_BOUND = 2e-6;

/** Run fn at the given global and conv precision, restoring both. */
function at<T>(global: "ieee" | "fast", conv: "ieee" | "fast" | "none", fn: () => T): T {
  const g0 = nb.backend.fp32Precision,
    c0 = nb.backend.conv.fp32Precision;
  nb.backend.fp32Precision = global;
  nb.backend.conv.fp32Precision = conv;
  try {
    return fn();
  } finally {
    nb.backend.fp32Precision = g0;
    nb.backend.conv.fp32Precision = c0;
  }
}

interface Case {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  pad: number;
}

/** The three passes of a 3×3 stride-1 convolution by plain float64 loops: y = x ⋆ w, gx = ∂⟨gy, y⟩/∂x, gw = ∂⟨gy, y⟩/∂w. */
function reference(k: Case, x: Float32Array, w: Float32Array, gy: Float32Array) {
  const { n, c, h, w: W, o, pad } = k;
  const oh = h + 2 * pad - 2,
    ow = W + 2 * pad - 2;
  const y = new Float64Array(n * o * oh * ow),
    gx = new Float64Array(x.length),
    gw = new Float64Array(w.length);
  for (let s = 0; s < n; s++)
    for (let q = 0; q < o; q++)
      for (let ch = 0; ch < c; ch++)
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) {
            const wi = ((q * c + ch) * 3 + ky) * 3 + kx,
              wv = w[wi];
            let gsum = 0;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy - pad + ky;
              if (iy < 0 || iy >= h) continue;
              const xrow = ((s * c + ch) * h + iy) * W,
                yrow = ((s * o + q) * oh + oy) * ow;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox - pad + kx;
                if (ix < 0 || ix >= W) continue;
                y[yrow + ox] += x[xrow + ix] * wv;
                gx[xrow + ix] += gy[yrow + ox] * wv;
                gsum += gy[yrow + ox] * x[xrow + ix];
              }
            }
            gw[wi] += gsum;
          }
  return { y, gx, gw };
}

/** max |a − b| / max |b| */
function relErr(a: nb.Tensor, b: Float64Array): number {
  const d = a.data;
  let e = 0,
    m = 0;
  for (let i = 0; i < b.length; i++) {
    e = Math.max(e, Math.abs(d[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / m;
}

function passes(k: Case, seed: number) {
  const g = new nb.Generator(seed);
  const x = nb.randn([k.n, k.c, k.h, k.w], { generator: g });
  const w = nb.mul(nb.randn([k.o, k.c, 3, 3], { generator: g }), 1 / Math.sqrt(9 * k.c));
  const oh = k.h + 2 * k.pad - 2,
    ow = k.w + 2 * k.pad - 2;
  const gy = nb.randn([k.n, k.o, oh, ow], { generator: g });
  return { x, w, gy };
}

/** y, gx, gw through autograd, with the algorithms the three kernel calls took. */
function run(x: nb.Tensor, w: nb.Tensor, gy: nb.Tensor, pad: number) {
  const xs = x.detach().requiresGrad_(),
    ws = w.detach().requiresGrad_();
  let y: nb.Tensor | null = null;
  const log = nb.backend.convAlgorithms(() => {
    y = F.conv2d(xs, ws, null, 1, pad);
    nb.sum(nb.mul(y, gy)).backward();
  });
  const algo = Object.fromEntries(log.map((r) => [r.pass, r.algorithm]));
  return { y: y! as nb.Tensor, gx: xs.grad!, gw: ws.grad!, algo };
}

// Full and partial 4×4 tiles, odd sizes, padding 0–2, enough tiles (≥ 512 per batch) for F(4×4) to be
// taken, and ≥ 36 channels each way (below, the direct kernels take the layer in either precision)
const CASES: Case[] = [
  { n: 8, c: 40, h: 32, w: 32, o: 36, pad: 1 }, // full tiles
  { n: 32, c: 36, h: 15, w: 17, o: 40, pad: 1 }, // partial tiles in both directions
  { n: 20, c: 37, h: 23, w: 21, o: 39, pad: 0 }, // odd channel counts, no padding
  { n: 16, c: 36, h: 19, w: 26, o: 38, pad: 2 }, // padding 2
];

for (const k of CASES) {
  test(
    `"fast" conv ${k.n}×${k.c}×${k.h}×${k.w} → ${k.o}, pad ${k.pad}: F(4×4) on all three passes, within ${FAST_BOUND} of float64`,
    { skip: noFast },
    () => {
      const { x, w, gy } = passes(k, 17 + k.h);
      const ref = reference(k, x.data as Float32Array, w.data as Float32Array, gy.data as Float32Array);
      const fast = at("fast", "none", () => run(x, w, gy, k.pad));
      assert.deepEqual(fast.algo, { forward: "winograd-f4x4", input: "winograd-f4x4", weight: "winograd-f4x4" });
      const errs = [relErr(fast.y, ref.y), relErr(fast.gx, ref.gx), relErr(fast.gw, ref.gw)];
      for (const [i, e] of errs.entries())
        assert.ok(e < FAST_BOUND, `${["forward", "input grad", "weight grad"][i]}: ${e.toExponential(2)}`);
      // and it is a different computation from "ieee", which stays at its own bound
      const ieee = at("ieee", "none", () => run(x, w, gy, k.pad));
      assert.deepEqual(ieee.algo, { forward: "winograd-f2x2", input: "winograd-f2x2", weight: "winograd-f2x2" });
      const ie = [relErr(ieee.y, ref.y), relErr(ieee.gx, ref.gx), relErr(ieee.gw, ref.gw)];
      for (const e of ie) assert.ok(e < IEEE_BOUND, `ieee ${e.toExponential(2)}`);
      assert.notDeepEqual(fast.y.data, ieee.y.data);
    },
  );
}

test(
  'a batch with fewer than 512 4×4 tiles keeps F(2×2) in "fast" (the transformed weights would cost more than F(4×4) saves)',
  { skip: noFast },
  () => {
    const k = { n: 2, c: 40, h: 16, w: 16, o: 40, pad: 1 }; // 2 · 16 tiles
    const { x, w, gy } = passes(k, 3);
    const fast = at("fast", "none", () => run(x, w, gy, 1));
    const ieee = at("ieee", "none", () => run(x, w, gy, 1));
    assert.equal(fast.algo.forward, "winograd-f2x2");
    assert.deepEqual(fast.y.data, ieee.y.data);
  },
);

test('"ieee" results do not depend on what ran in "fast" before (bit for bit)', { skip: noFast }, () => {
  const k = CASES[1];
  const { x, w, gy } = passes(k, 5);
  const before = at("ieee", "none", () => run(x, w, gy, k.pad));
  at("fast", "none", () => run(x, w, gy, k.pad));
  const after = at("ieee", "none", () => run(x, w, gy, k.pad));
  for (const key of ["y", "gx", "gw"] as const) assert.deepEqual(after[key].data, before[key].data, key);
});

test("float64 never changes with the precision setting", () => {
  const k = CASES[1];
  const { x, w, gy } = passes(k, 9);
  const [x64, w64, gy64] = [x, w, gy].map((t) => t.to("float64"));
  const ieee = at("ieee", "none", () => run(x64, w64, gy64, k.pad));
  const fast = at("fast", "fast", () => run(x64, w64, gy64, k.pad));
  assert.ok(!Object.values(fast.algo).some((a) => a.startsWith("winograd")), JSON.stringify(fast.algo));
  for (const key of ["y", "gx", "gw"] as const) assert.deepEqual(fast[key].data, ieee[key].data, key);
});

test('the js backend has no faster algorithm: "fast" gives its "ieee" bits', () => {
  const k = { n: 2, c: 16, h: 9, w: 11, o: 16, pad: 1 };
  const { x, w, gy } = passes(k, 11);
  const prev = nb.backend.getBackend().name;
  nb.backend.setBackend("js");
  try {
    const ieee = at("ieee", "none", () => run(x, w, gy, 1));
    const fast = at("fast", "none", () => run(x, w, gy, 1));
    assert.deepEqual(fast.algo, { forward: "im2col", input: "im2col", weight: "im2col" });
    for (const key of ["y", "gx", "gw"] as const) assert.deepEqual(fast[key].data, ieee[key].data, key);
  } finally {
    nb.backend.setBackend(prev);
  }
});

test("the setting's scope: global, the conv override ('none' follows the global value), bad values rejected", { skip: noFast }, () => {
  assert.equal(nb.backend.fp32Precision, "ieee", "the default");
  assert.equal(nb.backend.conv.fp32Precision, "none", "the conv override's default");
  const k = CASES[0];
  const { x, w } = passes(k, 1);
  const algo = () => nb.backend.convAlgorithms(() => F.conv2d(x, w, null, 1, 1))[0];
  assert.equal(at("ieee", "none", algo).algorithm, "winograd-f2x2");
  assert.equal(at("fast", "none", algo).algorithm, "winograd-f4x4");
  assert.equal(at("fast", "ieee", algo).algorithm, "winograd-f2x2", "conv override 'ieee' under a 'fast' global");
  assert.equal(at("ieee", "fast", algo).algorithm, "winograd-f4x4", "conv override 'fast' under an 'ieee' global");
  const rec = at("ieee", "fast", algo);
  assert.equal(rec.fp32Precision, "fast");
  assert.deepEqual(
    [rec.input, rec.weight, rec.stride, rec.padding, rec.groups, rec.dtype],
    [[8, 40, 32, 32], [36, 40, 3, 3], [1, 1], [1, 1], 1, "float32"],
  );
  assert.throws(
    () => {
      nb.backend.fp32Precision = "tf32" as "fast";
    },
    (e: Error) => e instanceof TypeError && /nb\.backend\.fp32Precision must be 'ieee' or 'fast', got 'tf32'/.test(e.message),
  );
  assert.throws(() => {
    nb.backend.conv.fp32Precision = 1 as unknown as "fast";
  }, TypeError);
  assert.equal(nb.backend.fp32Precision, "ieee", "a rejected value changes nothing");
  assert.throws(() => nb.backend.convAlgorithms(42 as unknown as () => void), TypeError);
  // nested logs: the inner calls are listed by both
  const outer = nb.backend.convAlgorithms(() => {
    const inner = nb.backend.convAlgorithms(() => F.conv2d(x, w, null, 1, 1));
    assert.equal(inner.length, 1);
    F.conv2d(x, w, null, 1, 1);
  });
  assert.equal(outer.length, 2);
});

test("NABLA_FP32_PRECISION sets the initial global value; a bad value stops the import with its name", () => {
  const entry = join(ROOT, ".test-build", "src", "index.js");
  const probe = `import(${JSON.stringify(entry)}).then((nb) => console.log(nb.backend.fp32Precision, nb.backend.conv.fp32Precision))`;
  const env = (v: string) => ({ ...process.env, NABLA_FP32_PRECISION: v });
  const ok = spawnSync(process.execPath, ["-e", probe], { env: env("fast"), encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "fast none");
  const def = spawnSync(process.execPath, ["-e", probe], { env: env(""), encoding: "utf8" });
  assert.equal(def.stdout.trim(), "ieee none");
  const bad = spawnSync(process.execPath, ["-e", probe], { env: env("tf32"), encoding: "utf8" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /NABLA_FP32_PRECISION must be 'ieee' or 'fast', got 'tf32'/);
});

test("convAlgorithms names the algorithm of every conv layer of a ResNet-18 training step", { skip: noFast }, () => {
  nb.manualSeed(0);
  const model = nb.models.resnet18({ numClasses: 10, smallInput: true });
  const x = nb.randn([8, 3, 32, 32]),
    y = nb.randint(0, 10, [8]);
  const step = () =>
    nb.backend.convAlgorithms(() => {
      model.zeroGrad();
      F.crossEntropy(model.forward(x), y).backward();
    });
  for (const precision of ["ieee", "fast"] as const) {
    const log = at(precision, "none", step);
    // 20 convolutions (17 3×3 + 3 1×1 shortcuts), each with a forward, an input gradient (not the stem's) and a weight gradient
    assert.equal(log.filter((r) => r.pass === "forward").length, 20);
    assert.equal(log.filter((r) => r.pass === "weight").length, 20);
    const of = (c: number, h: number, pass: string) =>
      new Set(
        log
          .filter((r) => r.input[1] === c && r.input[2] === h && r.weight[2] === 3 && r.stride[0] === 1 && r.pass === pass)
          .map((r) => r.algorithm),
      );
    // layer1 (64 channels on 32×32: 8 · 64 = 512 tiles of 4×4) takes F(4×4) in "fast"; layer2 (16×16: 128 tiles) keeps F(2×2)
    for (const pass of ["forward", "input", "weight"]) {
      assert.deepEqual([...of(64, 32, pass)], [precision === "fast" ? "winograd-f4x4" : "winograd-f2x2"], `layer1 ${pass}`);
      assert.deepEqual([...of(128, 16, pass)], ["winograd-f2x2"], `layer2 ${pass}`);
    }
    // the stride-2 3×3 convolutions go through im2col in both
    const s2 = log.filter((r) => r.stride[0] === 2 && r.weight[2] === 3 && r.pass === "forward");
    assert.equal(s2.length, 3);
    assert.ok(s2.every((r) => r.algorithm === "im2col"));
  }
});
