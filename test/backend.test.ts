// Every backend against the js reference: GEMM (transposes, broadcast batches, odd sizes), and
// convolution through im2col / col2im with stride, padding, dilation and groups, forward and backward.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { registerWasmBackends } from "./helpers.js";

// the wasm backend joins the suite whenever its modules were built (helpers.ts: "wasm" and the poisoned
// "wasm-1thread"); NABLA_BACKEND=js runs the js backend alone
const wasmSkip = await registerWasmBackends();
test("the wasm backend is in the parity suite", { skip: wasmSkip }, () => {
  assert.ok(nb.backend.listBackends().includes("wasm"));
  assert.equal(nb.backend.setBackend("wasm").info?.isa, "wasm-simd128");
  nb.backend.setBackend(process.env.NABLA_BACKEND || (nb.backend.listBackends().includes("native") ? "native" : "js"));
});

const others = nb.backend.listBackends().filter((b) => b !== "js");
const F = nb.nn.functional;

/** Run fn on the js backend and on `name`, returning both results. */
function both<T>(name: string, fn: () => T): [T, T] {
  const prev = nb.backend.getBackend().name;
  try {
    nb.backend.setBackend("js");
    const ref = fn();
    nb.backend.setBackend(name);
    return [ref, fn()];
  } finally {
    nb.backend.setBackend(prev);
  }
}

if (others.length === 0) {
  test(
    "parity of the other backends with js",
    { skip: "only the js backend is registered (the addon was not built or NABLA_BACKEND=js)" },
    () => {},
  );
}

test("backends registered: js always, native when the addon was built", () => {
  assert.ok(nb.backend.listBackends().includes("js"));
  if (process.env.NABLA_BACKEND === "js") assert.equal(nb.backend.getBackend().name, "js");
});

for (const name of others) {
  test(`${name} GEMM matches js: shapes, transposes, batches, float32 and float64`, () => {
    const g = new nb.Generator(1);
    for (const [m, k, n] of [
      [1, 1, 1],
      [5, 7, 3],
      [37, 300, 41],
      [64, 64, 64],
      [130, 17, 260],
      [6, 1000, 16],
    ]) {
      for (const dtype of ["float32", "float64"] as const) {
        const a = nb.randn([2, m, k], { dtype, generator: g }),
          b = nb.randn([k, n], { dtype, generator: g });
        const [r, o] = both(name, () => nb.matmul(a, b));
        nb.testing.assertClose(o, r, {
          rtol: dtype === "float32" ? 1e-4 : 1e-12,
          atol: dtype === "float32" ? 1e-4 : 1e-12,
          msg: `${name} ${m}x${k}x${n} ${dtype}`,
        });
        // the backward pass runs the transposed variants (Aᵀ·G, G·Bᵀ) and the broadcast-batch reduction
        const [rg, og] = both(name, () => {
          const ai = a.detach().requiresGrad_(),
            bi = b.detach().requiresGrad_();
          nb.matmul(ai, bi).pow(2).sum().backward();
          return [ai.grad!, bi.grad!];
        });
        rg.forEach((t, i) =>
          nb.testing.assertClose(og[i], t, {
            rtol: dtype === "float32" ? 1e-3 : 1e-10,
            atol: dtype === "float32" ? 1e-3 : 1e-10,
            msg: `${name} grad ${i} ${m}x${k}x${n}`,
          }),
        );
      }
    }
  });

  test(`${name} elementwise, broadcasting and reductions match js (exactly for + − × ÷, max, min, comparisons)`, () => {
    const g = new nb.Generator(3);
    const shapes: [number[], number[]][] = [
      [
        [64, 80],
        [64, 80],
      ],
      [
        [8, 16, 12, 12],
        [1, 16, 1, 1],
      ],
      [[8, 16, 12, 12], []],
      [
        [5, 1, 700],
        [1, 9, 700],
      ],
      [[2, 3, 40, 40], [40]],
      [[6000], [6000]],
      [
        [1, 5000],
        [7, 1],
      ],
    ];
    for (const dtype of ["float32", "float64"] as const) {
      for (const [sa, sb] of shapes) {
        const a = nb.randn(sa, { dtype, generator: g }),
          b = nb.rand(sb, { dtype, generator: g }).add(0.5);
        for (const op of ["add", "sub", "mul", "div", "maximum", "minimum", "gt", "eq"] as const) {
          const [r, o] = both(name, () => nb[op](a, b));
          nb.testing.assertClose(o, r, { rtol: 0, atol: 0, msg: `${name} ${op} ${JSON.stringify([sa, sb])} ${dtype}` });
        }
        const [rp, op] = both(name, () => nb.pow(b, a));
        nb.testing.assertClose(op, rp, { rtol: 1e-6, msg: `${name} pow ${dtype}` });
      }
      const x = nb.randn([8, 16, 12, 12], { dtype, generator: g });
      for (const fn of [
        (t: nb.Tensor) => t.sum([0, 2, 3]),
        (t: nb.Tensor) => t.sum(1),
        (t: nb.Tensor) => t.amax([2, 3]),
        (t: nb.Tensor) => t.argmax(1),
        (t: nb.Tensor) => t.exp(),
        (t: nb.Tensor) => t.sigmoid(),
        (t: nb.Tensor) => t.relu(),
        (t: nb.Tensor) => nb.nn.functional.softplus(t),
      ]) {
        const [r, o] = both(name, () => fn(x));
        nb.testing.assertClose(o, r, { rtol: dtype === "float32" ? 1e-6 : 1e-14, atol: 1e-6, msg: `${name} ${fn} ${dtype}` });
      }
    }
  });

  test(`${name} convolution matches js: stride, padding, dilation, groups, depthwise; forward and backward`, () => {
    const g = new nb.Generator(2);
    const cases: [number[], number[], nb.nn.functional.Conv2dOptions][] = [
      [[2, 4, 9, 9], [6, 4, 3, 3], { stride: 2, padding: 1 }],
      [[2, 4, 9, 9], [3, 4, 3, 3], { padding: 2, dilation: 2 }],
      [[2, 4, 9, 9], [6, 2, 3, 3], { stride: [2, 1], padding: [1, 0], groups: 2 }],
      [[2, 4, 9, 9], [8, 1, 5, 5], { padding: 2, groups: 4 }],
      [[3, 16, 14, 14], [32, 16, 3, 3], { padding: 1 }],
      // 1×1 stride 1 reads the input directly; stride 2 does not; one large sample spreads each GEMM over the threads
      [[4, 32, 8, 8], [16, 32, 1, 1], {}],
      [[4, 32, 8, 8], [16, 32, 1, 1], { stride: 2 }],
      [[1, 64, 24, 24], [64, 64, 3, 3], { padding: 1 }],
      [[1, 64, 24, 24], [32, 64, 1, 1], {}],
      [[5, 8, 20, 20], [16, 4, 3, 3], { padding: 1, groups: 2, dilation: 2 }],
      // few output pixels: samples are unfolded side by side in chunks (11 + a remainder of 8 here)
      [[19, 8, 5, 5], [12, 4, 3, 3], { padding: 1, groups: 2 }],
      [[6, 16, 6, 6], [8, 16, 1, 1], {}],
      // 3×3 stride-1 float32 layers with C·9 > 320 take Winograd F(2×2, 3×3) (and so does their input
      // gradient when O·9 > 320): odd output sizes (partial tiles), padding 0 and 2 (the input gradient
      // then pads by 2 and 0), several chunks of samples (5 of 8 here) run by the threads, and one chunk whose
      // phases are spread over the threads instead
      [[3, 40, 13, 11], [37, 40, 3, 3], {}],
      [[2, 40, 7, 7], [40, 40, 3, 3], { padding: 2 }],
      [[40, 36, 5, 5], [36, 36, 3, 3], { padding: 1 }],
      [[1, 40, 6, 6], [40, 40, 3, 3], { padding: 1 }],
      // maps 2, 4 and 8 tiles wide take transforms compiled for that width (full and partial tiles)
      [[5, 36, 4, 4], [36, 36, 3, 3], { padding: 1 }],
      [[4, 36, 7, 8], [40, 36, 3, 3], { padding: 1 }],
      [[2, 36, 13, 15], [36, 36, 3, 3], { padding: 1 }],
      [[3, 36, 5, 5], [36, 36, 3, 3], { padding: 1 }],
      // few channels (C·kh·kw ≤ 320, ≥ 4 outputs): direct convolution over zero-padded planes, forward
      // and (when it fits too) the input gradient, also with dilation
      [[4, 1, 12, 12], [6, 1, 5, 5], { padding: 2 }],
      [[3, 6, 10, 10], [16, 6, 5, 5], {}],
      [[2, 5, 9, 11], [7, 5, 3, 3], { padding: 1, dilation: 2 }],
      // 5×5 stride 1: the direct input gradient (shifted tap-column planes), also with dilation and
      // unequal padding; and the direct weight gradient
      [[2, 3, 11, 13], [4, 3, 5, 5], { padding: [3, 1], dilation: [1, 2] }],
      // 12 output channels: two blocks of the 6-channel direct kernel; 16 × 9 weights: the 8 × 3 blocks of
      // the direct weight gradient (6 × 25 above takes its 6 × 4 blocks)
      [[2, 3, 10, 10], [12, 3, 3, 3], { padding: 1 }],
      [[3, 1, 12, 12], [16, 1, 3, 3], { padding: 1 }],
      // enough chunks and work for the threads to take a chunk each: the weights are packed once for all
      // chunks (per group), forward and input gradient
      [[8, 32, 16, 16], [48, 8, 3, 3], { stride: 2, padding: 1, groups: 4 }],
      [[16, 24, 12, 12], [40, 24, 3, 3], { stride: 2 }],
    ];
    for (const [[xs, ws, opts], dtype] of cases.flatMap(
      (c) =>
        [
          [c, "float32"],
          [c, "float64"],
        ] as const,
    )) {
      const x = nb.randn(xs, { generator: g, dtype }),
        w = nb.randn(ws, { generator: g, dtype }),
        up = nb.randn([1], { generator: g, dtype });
      const bias = nb.randn([ws[0]], { generator: g, dtype });
      const run = () => {
        // the bias is added inside the convolution kernel (each path has its own epilogue)
        const xi = x.detach().requiresGrad_(),
          wi = w.detach().requiresGrad_(),
          bi = bias.detach().requiresGrad_();
        const y = F.conv2d(xi, wi, { ...opts, bias: bi });
        y.mul(y).sum().mul(up).backward();
        return [y, xi.grad!, wi.grad!, bi.grad!];
      };
      const [r, o] = both(name, run);
      if (dtype === "float64") {
        r.forEach((t, i) =>
          nb.testing.assertClose(o[i], t, { rtol: 1e-11, atol: 1e-10, msg: `${name} ${dtype} ${JSON.stringify(opts)} output ${i}` }),
        );
      } else {
        // float32 results (im2col + GEMM, inner products or Winograd) are held to the float64 result of the
        // same data, normwise: max error ≤ 2e-6 · max |result| (about 33 float32 ulps of the largest
        // element; measured worst 4.3e-7). The gradients here are sums of hundreds of terms of size ~50,
        // so a fixed absolute tolerance would measure the data's scale rather than the kernel.
        const truth = both("js", () => {
          const xi = x.to("float64").requiresGrad_(),
            wi = w.to("float64").requiresGrad_(),
            bi = bias.to("float64").requiresGrad_();
          const y = F.conv2d(xi, wi, { ...opts, bias: bi });
          y.mul(y).sum().mul(up.to("float64")).backward();
          return [y, xi.grad!, wi.grad!, bi.grad!];
        })[0];
        truth.forEach((t, i) => {
          const tv = t.data,
            rv = r[i].data,
            ov = o[i].data;
          let errJs = 0,
            errNative = 0,
            scale = 0;
          for (let k = 0; k < tv.length; k++) {
            errJs = Math.max(errJs, Math.abs(rv[k] - tv[k]));
            errNative = Math.max(errNative, Math.abs(ov[k] - tv[k]));
            scale = Math.max(scale, Math.abs(tv[k]));
          }
          if (process.env.NABLA_TEST_VERBOSE)
            console.log(
              `conv ${JSON.stringify(xs)} ${JSON.stringify(ws)} ${JSON.stringify(opts)} output ${i}: native ${errNative.toExponential(2)} js ${errJs.toExponential(2)} scale ${scale.toFixed(1)}`,
            );
          assert.ok(
            errNative <= 2e-6 * scale,
            `${name} float32 ${JSON.stringify(opts)} output ${i}: max error ${errNative} against float64, js float32 has ${errJs} (scale ${scale})`,
          );
        });
      }
      for (const popts of xs[2] >= 5 && xs[3] >= 5
        ? [
            { stride: 2, padding: 1, ceilMode: true },
            { stride: 1, dilation: 2 },
          ]
        : []) {
        const pool = () => {
          const xi = x.detach().requiresGrad_();
          const y = F.maxPool2d(xi, 3, popts);
          y.mul(y).sum().backward();
          return [y, xi.grad!];
        };
        const [pr, po] = both(name, pool);
        pr.forEach((t, i) =>
          nb.testing.assertClose(po[i], t, { rtol: 0, atol: 0, msg: `${name} maxPool2d ${JSON.stringify(popts)} ${i}` }),
        );
      }
    }
    // 2×2 / stride 2 (the native vector path): many ties and some NaNs, rows whose width is not a whole
    // number of vectors, odd plane sizes; the first maximum in window order must win, as in js
    for (const dtype of ["float32", "float64"] as const) {
      const vals = nb.randint(0, 3, [3, 5, 13, 19], { generator: g }).toArray().flat(3) as number[];
      vals.forEach((v, i) => {
        if (i % 37 === 5) vals[i] = Number.NaN;
      });
      const xt = nb.tensor(vals, { dtype }).reshape([3, 5, 13, 19]);
      const pool = () => {
        const xi = xt.detach().requiresGrad_();
        const y = F.maxPool2d(xi, 2);
        y.mul(nb.arange(0, y.numel(), 1, { dtype }).reshape(y.shape))
          .sum()
          .backward(); // a distinct gradient per window
        return [y, xi.grad!];
      };
      const [pr, po] = both(name, pool);
      pr.forEach((t, i) =>
        nb.testing.assertClose(po[i], t, { rtol: 0, atol: 0, equalNan: true, msg: `${name} maxPool2d 2x2 ties ${dtype} ${i}` }),
      );
    }
    // the 2×2 pool backward written window by window: an index outside its window (not one a max-pool
    // makes, but the scatter must stay right) sends its plane down the general path; windows that do not
    // describe the rows are an error
    {
      const [planes, h, w, oh, ow] = [300, 9, 11, 4, 5]; // ≥ 4096 outputs: the native kernel, not its js fallback for small arrays
      const idx = new Int32Array(planes * oh * ow),
        src = new Float32Array(planes * oh * ow).map((_, i) => i + 1);
      for (let p = 0; p < planes; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) idx[(p * oh + i) * ow + j] = (2 * i + ((p + j) & 1)) * w + 2 * j + (i & 1);
      idx[7 * oh * ow + 3] = h * w - 1; // plane 7: the last input, in no window
      const windows = Int32Array.of(h, w, oh, ow);
      const [r, o] = both(name, () => {
        const out = new Float32Array(planes * h * w).fill(Number.NaN);
        nb.backend.getBackend().scatterAdd(out, planes, h * w, 1, idx, oh * ow, src, true, windows);
        return out;
      });
      assert.deepEqual(o, r, `${name} scatterAdd with 2×2 windows`);
      const prevB = nb.backend.getBackend().name;
      try {
        nb.backend.setBackend(name);
        assert.throws(
          () =>
            nb.backend
              .getBackend()
              .scatterAdd(new Float32Array(planes * h * w), planes, h * w, 1, idx, oh * ow, src, true, Int32Array.of(h, w, oh + 1, ow)),
          /windows|bad arguments|lengths/,
        );
      } finally {
        nb.backend.setBackend(prevB);
      }
    }
    const geom = { n: 2, c: 1, h: 4, w: 4, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, oh: 2, ow: 2 };
    const prev = nb.backend.getBackend().name;
    try {
      nb.backend.setBackend(name);
      assert.throws(() => nb.backend.getBackend().maxPool2dIndices(new Float32Array(32), geom, new Int32Array(3)), /lengths do not match/);
      assert.throws(() => nb.backend.getBackend().im2col(new Float32Array(32), geom, 0, new Float32Array(31)), /lengths do not match/);
      const cg = { n: 2, c: 3, h: 5, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, oh: 5, ow: 5, o: 4, groups: 1 };
      assert.throws(
        () => nb.backend.getBackend().conv2d(new Float32Array(150), new Float32Array(108), cg, new Float32Array(199)),
        /lengths do not match/,
      );
      assert.throws(
        () =>
          nb.backend
            .getBackend()
            .conv2dBackwardWeight(new Float32Array(150), new Float32Array(200), { ...cg, oh: 7 }, new Float32Array(108)),
        /lengths do not match/,
      );
    } finally {
      nb.backend.setBackend(prev);
    }
    // a NaN in a window wins (the first one), as in PyTorch
    const xn = nb.tensor([
      [
        [
          [1, 5, 2, 0],
          [Number.NaN, 3, 4, Number.NaN],
          [7, 1, 1, 2],
          [0, 9, 3, 3],
        ],
      ],
    ]);
    for (const y of both(name, () => F.maxPool2d(xn, 2).toArray().flat(3) as number[])) {
      assert.ok(Number.isNaN(y[0]) && Number.isNaN(y[1]) && y[2] === 9 && y[3] === 3, `maxPool2d with NaN: ${y}`);
    }
  });
}

for (const name of others) {
  test(`${name} convolution weight gradients are deterministic (per-thread shares added in a fixed order)`, () => {
    const g = new nb.Generator(11);
    const prev = nb.backend.getBackend().name;
    try {
      nb.backend.setBackend(name);
      const be = nb.backend.getBackend();
      // Winograd (36 → 36 channels, several chunks), inner products (16 → 32), im2col GEMM (stride 2)
      for (const [n, c, h, o, s] of [
        [40, 36, 5, 36, 1],
        [64, 16, 14, 32, 1],
        [16, 24, 12, 40, 2],
      ]) {
        const oh = Math.floor((h + 2 - 3) / s) + 1;
        const geom = { n, c, h, w: h, kh: 3, kw: 3, sh: s, sw: s, ph: 1, pw: 1, dh: 1, dw: 1, oh, ow: oh, o, groups: 1 };
        const x = nb.randn([n, c, h, h], { generator: g }).data,
          gy = nb.randn([n, o, oh, oh], { generator: g }).data;
        const first = new Float32Array(o * c * 9),
          again = new Float32Array(o * c * 9);
        be.conv2dBackwardWeight(x, gy, geom, first);
        for (let r = 0; r < 3; r++) {
          be.conv2dBackwardWeight(x, gy, geom, again);
          assert.deepEqual(again, first, `${name} conv weight gradient ${JSON.stringify([n, c, h, o, s])} run ${r}`);
        }
      }
    } finally {
      nb.backend.setBackend(prev);
    }
  });

  test(`${name} convolution with ±Inf inputs: the same Inf / NaN pattern as js (Winograd-sized layers fall back to GEMM)`, () => {
    const g = new nb.Generator(13);
    const kind = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : "finite");
    // a Winograd-sized layer, and a few-channel one (direct weight gradient: its last partial vector of
    // output positions reads inputs of later rows, which must not meet the zero-padded gradient as 0·Inf)
    for (const [[n, c, h, o], infAt, dtype] of [
      [[2, 40, 8, 40], [3 * 64 + 4 * 8 + 4, 40 * 64 + 7 * 64], "float32"],
      [[2, 3, 10, 8], [9 * 10 + 4, 300 + 100 + 9 * 10 + 1], "float32"],
      [[2, 3, 10, 8], [9 * 10 + 4, 300 + 100 + 9 * 10 + 1], "float64"],
    ] as const) {
      const xv = nb.randn([n, c, h, h], { generator: g, dtype }).data.slice(),
        gv = nb.randn([n, o, h, h], { generator: g, dtype }).data.slice();
      xv[infAt[0]] = Infinity;
      xv[infAt[1]] = -Infinity;
      gv[5 * h * h + 9] = Infinity;
      const x = nb.tensor(xv, { dtype }).reshape([n, c, h, h]),
        gy = nb.tensor(gv, { dtype }).reshape([n, o, h, h]);
      const w = nb.randn([o, c, 3, 3], { generator: g, dtype });
      const run = () => {
        const xi = x.detach().requiresGrad_(),
          wi = w.detach().requiresGrad_();
        const y = F.conv2d(xi, wi, { padding: 1 });
        y.backward(gy);
        return [y, xi.grad!, wi.grad!];
      };
      const [r, o2] = both(name, run);
      r.forEach((t, i) => {
        const tv = t.data,
          ov = o2[i].data;
        for (let k = 0; k < tv.length; k++)
          assert.equal(kind(ov[k]), kind(tv[k]), `${name} conv ${[n, c, h, o]} ${dtype} with Inf, output ${i} element ${k}`);
        nb.testing.assertClose(o2[i], t, { rtol: 1e-4, atol: 1e-3, equalNan: true, msg: `${name} conv with Inf, output ${i}` });
      });
    }
  });

  test(`${name} strided copies (permute, pad, narrow, cat, expand) and broadcasting ops equal js exactly, with their gradients`, () => {
    const g = new nb.Generator(5);
    for (const dtype of ["float32", "float64"] as const) {
      const x = nb.randn([6, 7, 9, 11], { generator: g, dtype }),
        y = nb.randn([6, 3, 9, 11], { generator: g, dtype });
      const run = () => {
        const xi = x.detach().requiresGrad_(),
          yi = y.detach().requiresGrad_();
        const outs = [
          nb.permute(xi, [2, 0, 3, 1]),
          nb.transpose(xi, 1, 3),
          F.pad(xi, [2, 1, 3, 0], { value: 0.5 }),
          nb.narrow(xi, 3, 2, 7),
          nb.cat([xi, yi], 1),
          xi.sum(1, { keepdim: true }).expand([6, 7, 9, 11]),
          // broadcasting binary ops read through strides (rows split across threads)
          xi.mul(yi.sum(1, { keepdim: true }).sum(3, { keepdim: true })),
          xi.sub(yi.sum(0, { keepdim: true }).sum(1, { keepdim: true }).sum(2, { keepdim: true })),
        ];
        outs.reduce((acc, t, i) => acc.add(t.mul(i + 1).sum()), nb.zeros([], { dtype })).backward();
        return [...outs, xi.grad!, yi.grad!];
      };
      const [r, o] = both(name, run);
      // the copies are exact; the broadcasting ops and the gradients also hold sums, which the native
      // reductions add in a different order
      const near = dtype === "float32" ? { rtol: 1e-5, atol: 1e-4 } : { rtol: 1e-12, atol: 1e-10 };
      r.forEach((t, i) => nb.testing.assertClose(o[i], t, { ...(i < 6 ? { rtol: 0, atol: 0 } : near), msg: `${name} copy ${dtype} ${i}` }));
    }
  });

  test(`${name} every optimizer's update equals js bit for bit (large tensors take the native kernel)`, () => {
    const g = new nb.Generator(9);
    for (const dtype of ["float32", "float64"] as const) {
      for (const [Opt, opts] of [
        [nb.optim.Adam, { lr: 1e-2, weightDecay: 0.1 }],
        [nb.optim.Adam, { amsgrad: true, maximize: true }],
        [nb.optim.AdamW, { lr: 3e-3 }],
        [nb.optim.AdamW, { amsgrad: true, weightDecay: 0.05 }],
        [nb.optim.SGD, { lr: 0.1 }],
        [nb.optim.SGD, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-2 }],
        [nb.optim.SGD, { lr: 0.05, momentum: 0.5, dampening: 0.3, maximize: true }],
        [nb.optim.RMSprop, { lr: 1e-2 }],
        [nb.optim.RMSprop, { lr: 1e-2, momentum: 0.9, centered: true, weightDecay: 0.1, maximize: true }],
        [nb.optim.Adagrad, { lr: 0.1, lrDecay: 0.01, weightDecay: 0.1 }],
        [nb.optim.Adagrad, { maximize: true, initialAccumulatorValue: 0.5 }],
        [nb.optim.Adadelta, { lr: 1, rho: 0.8, weightDecay: 0.1 }],
        [nb.optim.Adadelta, { maximize: true }],
        [nb.optim.NAdam, { lr: 2e-3, weightDecay: 0.1 }],
        [nb.optim.NAdam, { momentumDecay: 0.01 }],
        [nb.optim.Adamax, { lr: 2e-3, weightDecay: 0.1 }],
        [nb.optim.Adamax, { maximize: true, betas: [0.8, 0.9] }],
      ] as const) {
        const p0 = nb.randn([100, 50], { generator: g, dtype }),
          grads = [0, 1, 2].map(() => nb.randn([100, 50], { generator: g, dtype }));
        const run = () => {
          const p = p0.clone().requiresGrad_();
          const opt = new (Opt as new (ps: nb.Tensor[], o: object) => { step(): unknown })([p], opts);
          for (const gr of grads) {
            p.grad = gr.clone();
            opt.step();
          }
          return p.detach();
        };
        const [r, o] = both(name, run);
        nb.testing.assertClose(o, r, { rtol: 0, atol: 0, msg: `${name} ${Opt.name} ${JSON.stringify(opts)} ${dtype}` });
      }
    }
  });
}
