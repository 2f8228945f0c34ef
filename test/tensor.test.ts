// Tensor creation, readers, dtypes and the seeded generator (checked against a BigInt PCG32 reference).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as nb from "../src/index.js";

test("tensor from nested arrays, typed arrays and numbers", () => {
  const a = nb.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.dtype, "float32");
  assert.deepEqual(a.toArray(), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const b = nb.tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] });
  assert.equal(b.dtype, "float64");
  assert.deepEqual(b.toArray(), [
    [1, 2],
    [3, 4],
  ]);
  const c = nb.tensor(7.5);
  assert.deepEqual(c.shape, []);
  assert.equal(c.item(), 7.5);
  const d = nb.tensor([1.9, -1.9], { dtype: "int32" });
  assert.deepEqual(d.toArray(), [1, -1]);
  const e = nb.tensor(new Int32Array([3, 4]));
  assert.equal(e.dtype, "int32");
});

test("toTypedArray is a flat copy", () => {
  const a = nb.tensor([
    [1, 2],
    [3, 4],
  ]);
  const flat = a.toTypedArray();
  assert.ok(flat instanceof Float32Array);
  assert.deepEqual([...flat], [1, 2, 3, 4]);
  flat[0] = 100;
  assert.equal(a.data[0], 1);
});

test("creation functions follow PyTorch", () => {
  assert.deepEqual(nb.zeros([2, 2]).toArray(), [
    [0, 0],
    [0, 0],
  ]);
  assert.deepEqual(nb.ones([3], { dtype: "int32" }).toArray(), [1, 1, 1]);
  assert.deepEqual(nb.full([2], 3.5).toArray(), [3.5, 3.5]);
  assert.deepEqual(nb.arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.equal(nb.arange(5).dtype, "int32");
  assert.deepEqual(nb.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.equal(nb.arange(1, 2, 0.25).dtype, "float32");
  assert.deepEqual(nb.eye(2, 3).toArray(), [
    [1, 0, 0],
    [0, 1, 0],
  ]);
  assert.deepEqual(nb.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
});

/** PCG32 (XSH-RR, O'Neill's reference constants) computed with BigInt: an independent implementation. */
function pcgReference(seed: bigint, count: number): number[] {
  const M = 6364136223846793005n,
    INC = 1442695040888963407n,
    MASK = (1n << 64n) - 1n;
  let state = seed & MASK;
  const step = () => {
    const old = state;
    state = (old * M + INC) & MASK;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  };
  // nabla's seeding: state = seed; advance; state += 0x9e3779b9 (low word); advance.
  step();
  state = (state & ~0xffffffffn) | ((state + 0x9e3779b9n) & 0xffffffffn);
  step();
  return Array.from({ length: count }, step);
}

test("the generator is PCG32, bit for bit (BigInt reference)", () => {
  for (const seed of [0, 1, 42, 123456789, 2 ** 40 + 7]) {
    const g = new nb.Generator(seed);
    const got = Array.from({ length: 50 }, () => g.nextUint32());
    assert.deepEqual(got, pcgReference(BigInt(seed), 50), `seed ${seed}`);
  }
});

test("manualSeed makes rand/randn/randint reproducible and state round-trips", () => {
  nb.manualSeed(7);
  const a = nb.randn([100]).toArray();
  nb.manualSeed(7);
  const b = nb.randn([100]).toArray();
  assert.deepEqual(a, b);
  const g = new nb.Generator(3);
  nb.rand([5], { generator: g });
  const state = g.getState();
  const next = nb.randn([7], { generator: g }).toArray();
  g.setState(state);
  assert.deepEqual(nb.randn([7], { generator: g }).toArray(), next);
  const r = nb.randint(-3, 4, [1000]);
  assert.ok(r.toArray().every((v: number) => v >= -3 && v < 4));
});

test("rand/randn have the right moments", () => {
  const g = new nb.Generator(11);
  const u = nb.rand([100000], { dtype: "float64", generator: g });
  const n = nb.randn([100000], { dtype: "float64", generator: g });
  // Standard errors: uniform mean 1/sqrt(12·1e5) ≈ 9e-4; normal mean 3e-3, variance ≈ 4.5e-3.
  assert.ok(Math.abs(u.mean().item() - 0.5) < 5e-3);
  assert.ok(Math.abs(u.var().item() - 1 / 12) < 2e-3);
  assert.ok(Math.abs(n.mean().item()) < 1.5e-2);
  assert.ok(Math.abs(n.var().item() - 1) < 2.5e-2);
});

test("dtype promotion: float32 ⊕ float64 → float64, int32 / int32 → float32", () => {
  assert.equal(nb.add(nb.ones([2]), nb.ones([2], { dtype: "float64" })).dtype, "float64");
  assert.equal(nb.add(nb.ones([2], { dtype: "int32" }), nb.ones([2], { dtype: "int32" })).dtype, "int32");
  const q = nb.div(nb.tensor([7], { dtype: "int32" }), nb.tensor([2], { dtype: "int32" }));
  assert.equal(q.dtype, "float32");
  assert.equal(q.item(), 3.5);
  assert.equal(nb.add(nb.tensor([1], { dtype: "int32" }), 0.5).dtype, "float32");
});

test("float64 ops are computed in float64", () => {
  const x = nb.tensor([1e-10], { dtype: "float64" });
  assert.equal(nb.add(x, 1).sub(1).item(), 1e-10 + 1 - 1); // IEEE double arithmetic; float32 would give 0
});

test("toString prints like PyTorch", () => {
  assert.equal(
    nb
      .tensor([
        [1, 2],
        [3, 4.5],
      ])
      .toString(),
    // str(torch.tensor([[1, 2], [3, 4.5]])) in PyTorch 1.13 (more cases: test/habits.test.ts, fixtures/printing.json)
    "tensor([[1.0000, 2.0000],\n        [3.0000, 4.5000]])",
  );
  assert.equal(nb.tensor([1], { requiresGrad: true }).toString(), "tensor([1.], requires_grad=True)");
});
