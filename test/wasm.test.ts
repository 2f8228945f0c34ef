// The wasm backend in Node (wasm/nabla.wasm and wasm/nabla-threads.wasm, npm run build:wasm): its calls
// checked as the addon's are, in-place arguments, memory growth, the "fast" convolutions against a float64
// sum on the js backend, LeNet-5 training against js, and the threaded module's workers giving the
// one-thread module's bits. Its parity with js on every kernel is in backend.test.ts. Without the module
// (no clang for wasm32) every test here reports itself skipped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { wasmBackendFromModule } from "../src/backend/wasm/index.js";
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

/** 20 Adam steps of LeNet-5 on one seeded batch, on the backend registered as `backend`: the losses. */
const lenetLosses = (backend: string) =>
  on(backend, () => {
    nb.manualSeed(0);
    const model = nb.models.lenet5();
    const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
    const g = new nb.Generator(1);
    const x = nb.randn([64, 1, 28, 28], { generator: g }),
      y = nb.randint(0, 10, [64], { generator: g });
    return Array.from({ length: 20 }, () => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    });
  });

test("LeNet-5, 20 Adam steps on wasm: the losses follow js's, and two runs give the same bits", { skip }, () => {
  const wasm = lenetLosses("wasm"),
    js = lenetLosses("js");
  assert.deepEqual(lenetLosses("wasm"), wasm);
  wasm.forEach((l, i) => assert.ok(Math.abs(l - js[i]) <= 1e-4 * Math.abs(js[i]), `step ${i}: wasm ${l}, js ${js[i]}`));
  assert.ok(wasm[19] < wasm[0], "the loss fell");
});

// The threaded module (wasm/nabla-threads.wasm): workers on a shared memory, results the one-thread module's.
const threadedBuilt = existsSync(join(ROOT, "wasm", "nabla-threads.wasm"));
const skipThreads = skip || (!threadedBuilt && "wasm/nabla-threads.wasm was not built (npm run build:wasm)");
const moduleFile = (name: string) => new WebAssembly.Module(new Uint8Array(readFileSync(join(ROOT, "wasm", name))));

/** Run fn on a backend registered for the occasion under a name of its own. */
function onModule<T>(backend: nb.backend.Backend, name: string, fn: () => T): T {
  nb.backend.registerBackend({ ...backend, name });
  return on(name, fn);
}

test(
  "the threaded module: 3 threads' tasks give the same bits run by workers or by the caller alone; 1 thread gives the one-thread module's",
  {
    skip: skipThreads,
  },
  () => {
    const run = () => {
      const g = new nb.Generator(3);
      const a = nb.randn([700, 300], { generator: g }),
        c = nb.randn([300, 500], { generator: g });
      // 3×3 / 24 channels: Winograd, whose weight gradient adds one partial sum per thread's share
      const x = nb.randn([16, 24, 20, 20], { generator: g }).requiresGrad_(),
        w = nb.randn([32, 24, 3, 3], { generator: g }).requiresGrad_();
      const y = F.conv2d(x, w, null, 1, 1);
      y.square().sum().backward();
      return [nb.matmul(a, c), y, x.grad!, w.grad!].map((t) => Array.from(t.data as Float32Array));
    };
    const pooled = wasmBackendFromModule(moduleFile("nabla-threads.wasm"), {}, { threads: 3 });
    const alone = wasmBackendFromModule(moduleFile("nabla-threads.wasm"), {}, { threads: 3 }, { workers: false });
    assert.equal(pooled.info?.threads, 3);
    const p = onModule(pooled, "wasm-threads-3", run);
    onModule(alone, "wasm-threads-3-alone", run).forEach((v, i) => assert.deepEqual(p[i], v, `output ${i}`));
    const one = onModule(wasmBackendFromModule(moduleFile("nabla-threads.wasm"), {}, { threads: 1 }), "wasm-threads-1", run);
    const single = wasmBackendFromModule(moduleFile("nabla.wasm"));
    assert.equal(single.info?.threads, 1);
    onModule(single, "wasm-single", run).forEach((v, i) => assert.deepEqual(one[i], v, `output ${i}`));
  },
);

test(
  "20 LeNet-5 steps on 2 threads give the one-thread module's losses bit for bit (its kernels are too small to split)",
  { skip: skipThreads },
  () => {
    const losses = (backend: nb.backend.Backend, name: string) => {
      nb.backend.registerBackend({ ...backend, name });
      return lenetLosses(name);
    };
    const two = losses(wasmBackendFromModule(moduleFile("nabla-threads.wasm"), {}, { threads: 2 }), "wasm-threads-2");
    assert.deepEqual(two, losses(wasmBackendFromModule(moduleFile("nabla.wasm")), "wasm-single"));
  },
);

test("wasm options: a bad threads value or an unknown option is a TypeError; threads on the one-thread module too", { skip }, async () => {
  await assert.rejects(
    nb.backend.loadWasm(undefined, { threads: 0 }),
    (e: Error) => e instanceof TypeError && /threads must be a whole number/.test(e.message),
  );
  await assert.rejects(
    nb.backend.loadWasm(undefined, { thread: 2 } as never),
    (e: Error) => e instanceof TypeError && /unknown option 'thread'/.test(e.message),
  );
  await assert.rejects(
    nb.backend.loadWasm(undefined, 2 as never),
    (e: Error) => e instanceof TypeError && /options must be an object/.test(e.message),
  );
  await assert.rejects(
    nb.backend.loadWasm(moduleFile("nabla.wasm"), { threads: 2 }),
    (e: Error) => e instanceof TypeError && /needs the threaded module/.test(e.message),
  );
});

test("a trap on a worker fails the call it was part of, and the module refuses every later call", { skip: skipThreads }, () => {
  let ex: Record<string, unknown> = {};
  const b = wasmBackendFromModule(moduleFile("nabla-threads.wasm"), {}, { threads: 2 }, { exports: (e) => (ex = e) });
  const g = new nb.Generator(4);
  const a = nb.randn([256, 256], { generator: g }),
    c = nb.randn([256, 256], { generator: g });
  const ok = onModule(b, "wasm-trap", () => nb.matmul(a, c));
  nb.testing.assertClose(
    ok,
    on("js", () => nb.matmul(a, c)),
    { rtol: 1e-4, atol: 1e-3 },
  );
  (ex.nb_test_trap_in_worker as () => void)();
  // the worker's trap reaches the caller, which stops waiting for the lost tasks (no hang) and fails
  assert.throws(
    () => onModule(b, "wasm-trap", () => nb.matmul(a, c)),
    (e: Error) => /^nabla wasm matmul: the module trapped \(/.test(e.message),
  );
  assert.throws(
    () => onModule(b, "wasm-trap", () => nb.exp(nb.randn([5000]))),
    (e: Error) => /^nabla wasm unary: this module is unusable since matmul trapped/.test(e.message),
  );
});
