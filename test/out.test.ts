// matmul's `out` (PyTorch's out=): the product written into a tensor the caller owns, on every backend,
// with the same bits as a fresh product (which ops.golden checks against PyTorch); the checks PyTorch
// makes (no gradient through out=, the product's dtype, no shared memory) plus one of its shape.

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";
import { onEveryBackend, registerWasmBackends, throwsWith } from "./helpers.js";

await registerWasmBackends();

const bitsEqual = (a: nb.Tensor, b: nb.Tensor, msg: string) => {
  assert.deepEqual(a.shape, b.shape, msg);
  assert.deepEqual(
    new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength),
    new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength),
    msg,
  );
};

test("matmul(a, b, { out }) writes the product's bits into out and returns it, on every backend", () => {
  const cases: [number[], number[]][] = [
    [
      [37, 53],
      [53, 29],
    ],
    [
      [64, 64],
      [64, 64],
    ],
    [
      [2, 1, 5, 6],
      [3, 6, 4],
    ], // batch dims broadcast
    [[6], [6, 4]], // vector · matrix
    [[2, 5, 6], [6]], // batched matrix · vector
    [[7], [7]], // dot product: a 0-d out
  ];
  onEveryBackend((backend) => {
    for (const dtype of ["float32", "float64"] as const) {
      const g = new nb.Generator(3);
      for (const [sa, sb] of cases) {
        const msg = `${backend} ${dtype} ${sa} · ${sb}`;
        const a = nb.randn(sa, { dtype, generator: g }),
          b = nb.randn(sb, { dtype, generator: g });
        const want = nb.matmul(a, b);
        const out = nb.full(want.shape, NaN, { dtype }); // every element must be written
        const r = nb.matmul(a, b, { out });
        assert.equal(r, out, msg);
        bitsEqual(out, want, msg);
        // again into the same tensor, from other inputs: nothing of the first product stays
        const a2 = a.neg();
        nb.matmul(a2, b, { out });
        bitsEqual(out, nb.matmul(a2, b), `${msg}, written twice`);
        // out may be a view of a larger storage's whole: a reshaped tensor writes its storage
        const flat = nb.zeros([want.data.length], { dtype });
        nb.matmul(a, b, { out: flat.reshape(want.shape) });
        bitsEqual(flat.reshape(want.shape), want, `${msg}, into a reshaped tensor`);
      }
    }
  });
});

test("matmul's out= bumps out's version: a graph that saved out refuses to backpropagate", () => {
  const out = nb.ones([2, 2]),
    w = nb.randn([2, 2], { requiresGrad: true });
  const loss = out.mul(w).sum(); // mul saves out for w's gradient
  nb.matmul(nb.randn([2, 3]), nb.randn([3, 2]), { out });
  throwsWith(() => loss.backward(), "was modified by an in-place operation after it was used");
});

test("matmul's out= rejects what PyTorch rejects, and a shape it would resize", () => {
  const a = nb.randn([3, 4]),
    b = nb.randn([4, 5]);
  throwsWith(
    () => nb.matmul(a, b, { out: nb.zeros([3, 4]) }),
    "matmul: out has shape [3, 4], but the product of [3, 4] and [4, 5] has shape [3, 5]",
  );
  throwsWith(
    () => nb.matmul(a, b, { out: nb.zeros([3, 5], { dtype: "float64" }) }),
    "matmul: out must have the product's dtype float32, got float64",
  );
  throwsWith(() => nb.matmul(a, b, { out: nb.zeros([3, 5], { requiresGrad: true }) }), "out= does not support automatic differentiation");
  throwsWith(() => nb.matmul(a.requiresGrad_(), b, { out: nb.zeros([3, 5]) }), "one of the arguments requires grad");
  // outside recording it is allowed, as under torch.no_grad()
  const out = nb.zeros([3, 5]);
  nb.noGrad(() => nb.matmul(a, b, { out }));
  bitsEqual(
    out,
    nb.noGrad(() => nb.matmul(a, b)),
    "under noGrad",
  );
  const sq = nb.randn([4, 4]);
  throwsWith(() => nb.matmul(sq, nb.randn([4, 4]), { out: sq }), "matmul: out shares memory with an input");
  throwsWith(
    () => nb.matmul(nb.randn([4, 4]), sq.reshape([4, 4]), { out: sq.reshape([2, 8]).reshape([4, 4]) }),
    "out shares memory with an input",
  );
  throwsWith(() => nb.matmul(a.detach(), b, { out: nb.randn([3, 5]).data } as never), "matmul: out must be a Tensor");
  // the options slot takes only { out }, by name (out is keyword-only in PyTorch too)
  throwsWith(() => nb.matmul(a.detach(), b, { Out: nb.zeros([3, 5]) } as never), 'matmul: unknown option "Out" (did you mean out?)');
  throwsWith(
    () => nb.matmul(a.detach(), b, nb.zeros([3, 5]) as never),
    "matmul: expected an options object { out } here, got a Tensor of shape [3, 5]",
  );
  // mm is matmul
  const o2 = nb.zeros([3, 5]);
  assert.equal(nb.mm(a.detach(), b, { out: o2 }), o2);
});

test("matmul's out= is refused while tracing for ONNX export", () => {
  class M extends nb.nn.Module {
    w = nb.randn([4, 2]);
    forward(x: nb.Tensor) {
      return nb.matmul(x, this.w, { out: nb.zeros([x.shape[0], 2]) });
    }
  }
  throwsWith(() => nb.onnx.export(new M(), nb.randn([3, 4])), "matmul: out= cannot be traced for ONNX export");
});
