// nb.io.loadTorch: files written by torch.save (zip and legacy formats; scripts/fixtures/torch_pth.py with
// Debian's PyTorch) load bit-exactly; a checkpoint's state dict drives a nabla model to PyTorch's output;
// hostile files (globals that would run code, whole pickled modules, storages overrun, truncation,
// corruption) are refused with an error naming the global or the byte offset, and nothing runs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { fixturePath, ROOT, throwsWith } from "./helpers.js";

const pth = (name: string) => fixturePath(join("pth", name));
const expected = JSON.parse(readFileSync(pth("expected.json"), "utf8"));
const MARKER = "/tmp/nabla-pth-executed";

for (const file of ["tensors_zip.pth", "tensors_legacy.pth"]) {
  test(`${file}: every tensor has PyTorch's dtype, shape and exact values (views of one storage included)`, () => {
    const t = nb.io.loadTorch(pth(file));
    assert.deepEqual(Object.keys(t), Object.keys(expected.tensors));
    for (const [k, e] of Object.entries<{ shape: number[]; dtype: string; data: number[] }>(expected.tensors)) {
      assert.equal(t[k].dtype, e.dtype, k);
      assert.deepEqual(t[k].shape, e.shape, k);
      const want = e.dtype === "float32" ? e.data.map(Math.fround) : e.data;
      assert.deepEqual(Array.from(t[k].data), want, k);
    }
    // spot checks against closed form: base = arange(12)/2 − 1 as 3×4; t = base.t(); step = base[::2, 1::2]
    assert.deepEqual(t.step.toArray(), [
      [-0.5, 0.5],
      [3.5, 4.5],
    ]);
    assert.deepEqual(t.col.toArray(), [0, 2, 4]);
    assert.deepEqual(t.i64.toArray(), [
      [-5, 7],
      [2 ** 31 - 1, -(2 ** 31)],
    ]);
    assert.equal(Object.getPrototypeOf(t), null);
  });
}

function net() {
  return new nb.nn.Sequential(
    new nb.nn.Conv2d(1, 4, 3),
    new nb.nn.BatchNorm2d(4),
    new nb.nn.ReLU(),
    new nb.nn.Flatten(),
    new nb.nn.Linear(64, 3),
  );
}
const tensorOf = (e: { shape: number[]; data: number[] }) => nb.tensor(e.data).reshape(e.shape);

function checkNet(sd: Record<string, nb.Tensor>) {
  const m = net();
  const r = m.loadStateDict(sd);
  assert.deepEqual([r.missingKeys, r.unexpectedKeys], [[], []]);
  m.eval();
  const y = m.forward(tensorOf(expected.net.input));
  const want = expected.net.output.data as number[];
  const got = Array.from(y.data);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `output ${i}: ${got[i]} vs ${want[i]}`);
  assert.equal(sd["1.num_batches_tracked"].item(), expected.net.num_batches_tracked);
}

test("a checkpoint dict: the model's state dict loads strictly and gives PyTorch's output; numbers, strings, None, tuples, int keys, big ints", () => {
  const c = nb.io.loadTorch<any>(pth("checkpoint.pth"));
  assert.deepEqual(Object.keys(c.model), expected.net.keys);
  checkNet(c.model);
  assert.equal(c.epoch, 3);
  assert.equal(c.loss, 0.25);
  assert.equal(c.name, "net");
  assert.equal(c.note, null);
  assert.deepEqual(c.shape, [2, 1, 6, 6]);
  assert.equal(c.big, 2n ** 70n);
  assert.deepEqual(
    c.optimizer.param_groups.map((g: object) => ({ ...g })),
    expected.optimizer.param_groups,
  );
  assert.ok(c.optimizer.state instanceof Map);
  assert.deepEqual([...c.optimizer.state.keys()], expected.optimizer.state_keys);
  assert.deepEqual(c.optimizer.state.get(0).momentum_buffer.shape, [4, 1, 3, 3]);
});

test("a legacy-format state dict (_use_new_zipfile_serialization=False) gives the same output", () => {
  checkNet(nb.io.loadTorch(pth("state_dict_legacy.pth")));
  // from bytes and from an ArrayBuffer as well as from a path
  const bytes = readFileSync(pth("state_dict_legacy.pth"));
  checkNet(nb.io.loadTorch(new Uint8Array(bytes)));
  checkNet(nb.io.loadTorch(new Uint8Array(bytes).buffer));
});

test("hostile files are refused, naming the global; none of them runs anything", () => {
  rmSync(MARKER, { force: true });
  const cases: [string, string][] = [
    ["hostile_system.pth", "global 'posix.system' is not allowed"],
    ["hostile_system_legacy.pth", "global 'posix.system' is not allowed"],
    ["hostile_exec.pth", "global '__builtin__.exec' is not allowed"],
    ["hostile_module.pth", "global 'torch.nn.modules.linear.Linear' is not allowed"],
    ["hostile_module.pth", "save model.state_dict() instead"],
    ["hostile_oob.pth", "reaches element 3 of storage '0', which holds 2"],
  ];
  for (const [file, msg] of cases) {
    throwsWith(() => nb.io.loadTorch(pth(file)), `loadTorch: ${pth(file)}`, "byte ", msg);
  }
  // each payload would have created the marker had it run (scripts/fixtures/torch_pth.py)
  assert.ok(readFileSync(pth("hostile_system.pth")).includes("touch " + MARKER));
  assert.equal(existsSync(MARKER), false);
});

/** `fn` throws a TorchLoadError (never another kind of error, never a silent success). */
function refused(fn: () => unknown, what: string): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof nb.io.TorchLoadError, `${what}: ${(e as Error).name}: ${(e as Error).message}`);
    return (e as Error).message;
  }
  assert.fail(`${what}: loaded`);
}

test("truncated files are refused at every length, with the byte offset", () => {
  for (const file of ["tensors_zip.pth", "tensors_legacy.pth", "checkpoint.pth"]) {
    const b = new Uint8Array(readFileSync(pth(file)));
    for (let n = 0; n < b.length; n += n < 64 ? 1 : 37) {
      const msg = refused(() => nb.io.parseTorch(b.subarray(0, n), `${file}[:${n}]`), `${file} cut at ${n}`);
      assert.ok(/byte \d+|not a file written by torch.save/.test(msg), msg);
    }
  }
});

test("a flipped byte in a zip entry's data is a CRC error naming the entry and offset", () => {
  const b = new Uint8Array(readFileSync(pth("tensors_zip.pth")));
  // the bytes of f64's 1e300 inside the entry tensors_zip/data/<key>
  const i = Buffer.from(b).indexOf(new Uint8Array(new Float64Array([1e300]).buffer));
  assert.ok(i > 0);
  const bad = b.slice();
  bad[i] ^= 0xff;
  refused(() => nb.io.parseTorch(bad, "f.pth"), "flipped byte");
  throwsWith(() => nb.io.parseTorch(bad, "f.pth"), "f.pth: byte", "CRC-32");
});

test("10,000 random mutations of each format load or are refused with a TorchLoadError, nothing else", () => {
  let state = 12345;
  const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (const file of ["tensors_legacy.pth", "checkpoint.pth", "tensors_zip.pth"]) {
    const b = new Uint8Array(readFileSync(pth(file)));
    let rejected = 0;
    for (let k = 0; k < 10000; k++) {
      const m = b.slice();
      for (let j = 1 + Math.floor(rand() * 3); j > 0; j--) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      try {
        nb.io.parseTorch(m, "m.pth");
      } catch (e) {
        assert.ok(e instanceof nb.io.TorchLoadError, `${file} mutation ${k}: ${(e as Error).name}: ${(e as Error).message}`);
        rejected++;
      }
    }
    assert.ok(rejected > 0);
  }
});

test("bad arguments and non-torch files", () => {
  throwsWith(() => nb.io.loadTorch(42 as never), "loadTorch: expected a path, a Uint8Array or an ArrayBuffer, got number");
  throwsWith(() => nb.io.loadTorch(join(ROOT, "package.json")), "package.json: byte 0: neither a zip archive nor a pickle");
  throwsWith(() => nb.io.loadTorch(join(ROOT, "no-such.pth")), "no-such.pth: cannot read (ENOENT)");
  throwsWith(() => nb.io.loadTorch(pth("")), "not a regular file (a directory)");
});

const large = fixturePath(join("large", "resnet18.pth"));
test(
  "torchvision's resnet18 state dict loads strictly into nb.models.resnet18 and gives torchvision's logits",
  { skip: existsSync(large) ? false : `no fixture ${large}: run /usr/bin/python3 scripts/fixtures/torch_pth.py --large` },
  () => {
    const ref = JSON.parse(readFileSync(fixturePath(join("large", "resnet18.json")), "utf8"));
    const m = nb.nn.init.skipInit(() => nb.models.resnet18());
    m.loadStateDict(nb.io.loadTorch(large));
    m.eval();
    const y = Array.from(m.forward(tensorOf(ref.input)).data);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref.output.data[i]));
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
  },
);

test("hand-made pickles: deep nesting, a stack underflow, an unknown opcode, trailing bytes are TorchLoadErrors", () => {
  const legacy = (body: number[]) => {
    // the legacy header pickles (magic, 1001, {}) then the body
    const magic = [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
    return new Uint8Array([...magic, 0x80, 2, 0x4d, 0xe9, 0x03, 0x2e, 0x80, 2, 0x7d, 0x2e, ...body]);
  };
  const deep: number[] = [0x80, 2];
  for (let i = 0; i < 5000; i++) deep.push(0x5d); // EMPTY_LIST × 5000
  for (let i = 0; i < 4999; i++) deep.push(0x61); // APPEND each into the one below
  deep.push(0x2e, 0x80, 2, 0x5d, 0x2e);
  throwsWith(() => nb.io.parseTorch(legacy(deep)), "nested more than 1000 deep");
  throwsWith(() => nb.io.parseTorch(legacy([0x80, 2, 0x61, 0x2e])), "byte 27: the pickle pops from an empty stack");
  throwsWith(() => nb.io.parseTorch(legacy([0x80, 2, 0xff, 0x2e])), "byte 27: unknown pickle opcode 0xff");
  throwsWith(() => nb.io.parseTorch(legacy([0x80, 2, 0x4e, 0x2e, 0x80, 2, 0x5d, 0x2e, 1, 2])), "2 bytes after the last storage");
  // a whole value stands alone; an empty legacy file with a valid header and no storages loads
  assert.equal(nb.io.parseTorch(legacy([0x80, 2, 0x4e, 0x2e, 0x80, 2, 0x5d, 0x2e])), null);
});

test("a Node Buffer (whose slice() shares memory and whose .buffer may be a pool) loads the same, twice, and is left unchanged", () => {
  const buf = readFileSync(pth("tensors_zip.pth"));
  const before = new Uint8Array(buf);
  const ref = nb.io.loadTorch(pth("tensors_zip.pth"));
  for (let k = 0; k < 2; k++) {
    const t = nb.io.loadTorch(buf);
    for (const key of Object.keys(ref)) assert.deepEqual(Array.from(t[key].data), Array.from(ref[key].data), key);
  }
  assert.deepEqual(new Uint8Array(buf), before);
  // a Buffer that is a slice of a larger one
  const big = Buffer.alloc(buf.length + 18, 7);
  big.set(buf as ArrayLike<number>, 13);
  const padded = big.subarray(13, 13 + buf.length);
  assert.deepEqual(Array.from(nb.io.loadTorch(padded).f64.data), Array.from(ref.f64.data));
});
