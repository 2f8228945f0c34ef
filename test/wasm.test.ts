// The wasm backend in Node (wasm/nabla.wasm, npm run build:wasm): its calls checked as the addon's are,
// in-place arguments, memory growth, the "fast" convolutions against a float64 sum on the js backend, and
// LeNet-5 training against js. Its parity with js on every kernel is in backend.test.ts. Without the module
// (no clang for wasm32) every test here reports itself skipped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { ROOT, onBackend as on } from "./helpers.js";

const built = existsSync(join(ROOT, "wasm", "nabla.wasm"));
const skip =
  (!built && "wasm/nabla.wasm was not built (npm run build:wasm: no clang for wasm32)") ||
  (process.env.NABLA_BACKEND === "js" && "NABLA_BACKEND=js");
const F = nb.nn.functional;

test("setBackend('wasm') loads the module once; its info names SIMD128", { skip }, () => {
  const b = on("wasm", () => nb.backend.getBackend());
  assert.equal(b.name, "wasm");
  assert.equal(b.info?.isa, "wasm-simd128");
  assert.equal(
    on("wasm", () => nb.backend.getBackend()),
    b,
  );
});

test("the module checks each call as the addon does: errors name the kernel and the argument", { skip }, () => {
  const b = on("wasm", () => nb.backend.getBackend());
  assert.throws(
    () =>
      b.matmul(new Float32Array(4), Int32Array.of(0), false, new Float32Array(4), Int32Array.of(0), false, new Float32Array(3), 2, 2, 2),
    (e: Error) => e instanceof RangeError && /^nabla wasm matmul: batch offsets and out do not match/.test(e.message),
  );
  const g = { n: 1, c: 2, h: 5, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, oh: 3, ow: 3, o: 4, groups: 1 };
  assert.throws(
    () => b.conv2d(new Float32Array(50), new Float32Array(72), g, new Float32Array(35)),
    (e: Error) => e instanceof RangeError && /^nabla wasm conv2d: array lengths do not match the convolution geometry/.test(e.message),
  );
});

test("an array passed as input and output (in place) gets what a separate output gets", { skip }, () => {
  const b = on("wasm", () => nb.backend.getBackend());
  const x = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i));
  const separate = new Float32Array(x.length);
  b.unary("exp", x, separate);
  b.unary("exp", x, x);
  assert.deepEqual(x, separate);
  assert.ok(separate.every((v, i) => Math.abs(v - Math.exp(Math.sin(i))) <= 1e-6 * v));
});

test("a GEMM larger than the module's memory grows it (1024³ float32 and float64) and matches js", { skip }, () => {
  for (const dtype of ["float32", "float64"] as const) {
    const g = new nb.Generator(5);
    const a = nb.randn([1024, 1024], { dtype, generator: g }),
      c = nb.randn([1024, 1024], { dtype, generator: g });
    const y = on("wasm", () => nb.matmul(a, c));
    const r = on("js", () => nb.matmul(a, c));
    nb.testing.assertClose(y, r, { rtol: dtype === "float32" ? 1e-4 : 1e-12, atol: dtype === "float32" ? 1e-3 : 1e-10 });
  }
});

test('"fast" float32 convolutions on wasm take F(4×4) and stay within 1e-5 of a float64 convolution', { skip }, () => {
  const g = new nb.Generator(9);
  const x = nb.randn([8, 40, 32, 32], { generator: g }),
    w = nb.mul(nb.randn([36, 40, 3, 3], { generator: g }), 1 / Math.sqrt(360));
  const ref = on("js", () => F.conv2d(x.to("float64"), w.to("float64"), null, 1, 1));
  for (const precision of ["ieee", "fast"] as const) {
    const prev = nb.backend.fp32Precision;
    nb.backend.fp32Precision = precision;
    let y: nb.Tensor | null = null;
    const log = on("wasm", () => nb.backend.convAlgorithms(() => (y = F.conv2d(x, w, null, 1, 1))));
    nb.backend.fp32Precision = prev;
    assert.equal(log[0].algorithm, precision === "fast" ? "winograd-f4x4" : "winograd-f2x2");
    const err = nb.sub(y!.to("float64"), ref).abs().max().item() / ref.abs().max().item();
    assert.ok(err <= (precision === "fast" ? 1e-5 : 2e-6), `${precision}: relative error ${err}`);
  }
});

test("LeNet-5, 20 Adam steps on wasm: the losses follow js's, and two runs give the same bits", { skip }, () => {
  const losses = (backend: string) =>
    on(backend, () => {
      nb.manualSeed(0);
      const model = nb.models.lenet5();
      const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
      const g = new nb.Generator(1);
      const x = nb.randn([64, 1, 28, 28], { generator: g }),
        y = nb.randint(0, 10, [64], { generator: g });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        out.push(loss.item());
      }
      return out;
    });
  const wasm = losses("wasm"),
    js = losses("js");
  assert.deepEqual(losses("wasm"), wasm);
  wasm.forEach((l, i) => assert.ok(Math.abs(l - js[i]) <= 1e-4 * Math.abs(js[i]), `step ${i}: wasm ${l}, js ${js[i]}`));
  assert.ok(wasm[19] < wasm[0], "the loss fell");
});
