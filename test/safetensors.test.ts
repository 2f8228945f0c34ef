// safetensors: files written by PyTorch-side code load exactly; round trips; corrupt files are rejected
// with errors naming the file, tensor and problem (10,000-file fuzz); writes are atomic.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { fixturePath, ROOT, throwsWith } from "./helpers.js";

test("a file written on the PyTorch side loads with identical values, every dtype", () => {
  const { tensors: t, metadata } = nb.io.loadSafetensorsFile(fixturePath("dtypes.safetensors"));
  assert.equal(metadata.note, "written by scripts/fixtures/nn.py");
  assert.equal(t.f32.dtype, "float32");
  assert.deepEqual(t.f32.toArray(), [
    [1.5, -2.25],
    [3, Math.fround(1e-8)],
  ]);
  assert.equal(t.f64.dtype, "float64");
  assert.deepEqual(t.f64.toArray(), [0.1, 1e300, -7]);
  assert.deepEqual(t.i32.toArray(), [-2147483648, 0, 2147483647]);
  assert.equal(t.i64.dtype, "int32");
  assert.deepEqual(t.i64.toArray(), [
    [-5, 7],
    [2 ** 30, -(2 ** 31)],
  ]);
  // float16 as IEEE half rounds: 0.5, −65504 (max), 6.1e-5 (below 2^-14: subnormal 1023·2^-24), 1/3 → 1365·2^-12
  assert.deepEqual(t.f16.toArray(), [0.5, -65504, 1023 * 2 ** -24, 1365 * 2 ** -12]);
  // bfloat16 keeps float32's top 16 bits: 1e30 → 1.0005774e30 (round to nearest even on the PyTorch side)
  assert.deepEqual(t.bf16.toArray().slice(0, 2), [1, -3.140625]);
  assert.ok(Math.abs(t.bf16.toArray()[2] / 1e30 - 1) < 2 ** -8);
  assert.deepEqual(t.empty.shape, [0, 3]);
  assert.deepEqual(t.scalar.shape, []);
  assert.equal(t.scalar.item(), 4.5);
});

test("save → load round trip keeps dtype, shape, values and metadata", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-st-"));
  const path = join(dir, "w.safetensors");
  const src = { a: nb.randn([3, 4]), b: nb.randn([2], { dtype: "float64" }), c: nb.randint(-9, 9, [5]), s: nb.tensor(2) };
  nb.io.saveSafetensors(path, src, { format: "pt" });
  const { tensors, metadata } = nb.io.loadSafetensorsFile(path);
  assert.deepEqual({ ...metadata }, { format: "pt" });
  assert.equal(Object.getPrototypeOf(metadata), null, "names from a file live in a record without a prototype");
  for (const [k, v] of Object.entries(src)) {
    assert.equal(tensors[k].dtype, v.dtype, k);
    assert.deepEqual(tensors[k].shape, v.shape, k);
    assert.deepEqual([...tensors[k].data], [...v.data], k);
  }
  assert.deepEqual(readdirSync(dir), ["w.safetensors"], "no temporary file left behind");
});

function header(obj: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(obj));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test("corrupt files are rejected with the file, the tensor and the problem", () => {
  const p = (b: Uint8Array) => () => nb.io.parseSafetensors(b, "model.safetensors");
  throwsWith(p(new Uint8Array(5)), "safetensors: model.safetensors", "5 bytes, too short");
  const big = new Uint8Array(16);
  new DataView(big.buffer).setBigUint64(0, 1000n, true);
  throwsWith(p(big), "model.safetensors", "header length 1000", "runs past the end");
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
  throwsWith(p(huge), "exceeds");
  throwsWith(p(header("x")), "header is not a JSON object");
  const badUtf8 = header({ w: 1 });
  badUtf8[10] = 0xff;
  throwsWith(p(badUtf8), "not valid UTF-8 JSON");
  const badJson = header({});
  badJson[8] = 0x5b; // '[' … not a JSON object
  throwsWith(p(badJson), "not valid UTF-8 JSON");
  throwsWith(
    p(header({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4))),
    "tensor 'w'",
    "outside the 4-byte data section",
  );
  throwsWith(
    p(header({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))),
    "tensor 'w'",
    "do not match F32 × shape [3] = 12 bytes",
  );
  throwsWith(
    p(header({ w: { dtype: "Q8", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))),
    "tensor 'w'",
    'unsupported dtype "Q8"',
  );
  throwsWith(p(header({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))), "tensor 'w'", "invalid shape");
  throwsWith(p(header({ w: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4))), "tensor 'w'", "data_offsets [4, 0]");
  throwsWith(
    p(
      header(
        { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } },
        new Uint8Array(12),
      ),
    ),
    "'a' [0, 8] and 'b' [4, 12] overlap",
  );
  const i64 = new Uint8Array(8);
  new DataView(i64.buffer).setBigInt64(0, 2n ** 40n, true);
  throwsWith(p(header({ n: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, i64)), "tensor 'n'", "does not fit in int32");
  throwsWith(() => nb.io.loadSafetensors("/nonexistent/x.safetensors"), "safetensors: /nonexistent/x.safetensors", "cannot read");
});

test("fuzz: 10,000 mutated and truncated files load correctly or fail with a clear error", () => {
  const g = new nb.Generator(2024);
  const base = nb.io.serializeSafetensors(
    {
      weight: nb.randn([4, 3], { generator: g }),
      bias: nb.randn([3], { dtype: "float64", generator: g }),
      idx: nb.randint(0, 100, [6], { generator: g }),
    },
    { epoch: "3" },
  );
  const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
  let loaded = 0,
    rejected = 0;
  for (let i = 0; i < 10000; i++) {
    let b = base.slice();
    const kind = i % 5;
    if (kind === 0)
      b = b.slice(0, g.randint(0, b.length)); // truncation
    else if (kind === 1)
      for (let k = g.randint(1, 5); k > 0; k--) b[g.randint(0, b.length)] = g.randint(0, 256); // random bytes
    else if (kind === 2)
      b[8 + g.randint(0, headerLen)] = '0123456789[]{},:"-e.'.charCodeAt(g.randint(0, 20)); // JSON structure
    else if (kind === 3)
      new DataView(b.buffer).setBigUint64(0, BigInt(g.randint(0, 2 ** 31)) * BigInt(g.randint(1, 4)), true); // header length
    else {
      b[g.randint(0, 8)] ^= 1 << g.randint(0, 8);
      b = b.slice(0, b.length - g.randint(0, 16));
    } // both
    try {
      const { tensors } = nb.io.parseSafetensors(b, "fuzz.safetensors");
      for (const [k, t] of Object.entries(tensors)) {
        assert.equal(
          t.data.length,
          t.shape.reduce((x, y) => x * y, 1),
          `tensor ${k} storage/shape mismatch`,
        );
      }
      loaded++;
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith("safetensors: fuzz.safetensors: ")) {
        throw new Error(`mutation ${i} (kind ${kind}) raised an unclear error: ${(e as Error)?.message ?? e}`);
      }
      rejected++;
    }
  }
  assert.equal(loaded + rejected, 10000);
  assert.ok(rejected > 5000 && loaded > 100, `loaded ${loaded}, rejected ${rejected}`);
});

test("a write killed midway leaves the previous file intact", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-atomic-"));
  const path = join(dir, "ckpt.safetensors");
  nb.io.saveSafetensors(path, { w: nb.tensor([1, 2, 3]) }, { version: "old" });
  // A child process starts writing a 400 MB file over it and is killed with SIGKILL mid-write.
  const script = join(dir, "writer.mjs");
  writeFileSync(
    script,
    `import * as nb from ${JSON.stringify(join(ROOT, "dist", "index.js"))};
    const big = nb.zeros([100_000_000]);
    process.stdout.write("start\\n");
    nb.io.saveSafetensors(${JSON.stringify(path)}, { w: big }, { version: "new" });
    process.stdout.write("done\\n");`,
  );
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  // Kill as soon as the temporary file exists, i.e. while the new contents are being written.
  let sawTmp = false;
  for (let i = 0; i < 4000 && child.exitCode === null; i++) {
    if (readdirSync(dir).some((f) => f.endsWith(".tmp"))) {
      sawTmp = true;
      child.kill("SIGKILL");
      break;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await exited;
  assert.ok(sawTmp, "the writer never created its temporary file");
  const { tensors, metadata } = nb.io.loadSafetensorsFile(path);
  if (out.includes("done")) {
    assert.equal(metadata.version, "new"); // the write finished before the kill: the new file is whole
  } else {
    assert.equal(metadata.version, "old");
    assert.deepEqual([...tensors.w.data], [1, 2, 3]);
  }
});

/** A safetensors file built by hand: the header text as given, then the data bytes. */
function raw(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

test("what the format forbids is rejected: trailing bytes, holes, duplicate keys, a header length off by one, __proto__ names", () => {
  const four = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const ok = raw('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}  ', four);
  assert.deepEqual([...nb.io.loadSafetensors(ok).a.data], [1, 2, 3, 4]);
  // one byte too many at the end
  assert.throws(() => nb.io.loadSafetensors(new Uint8Array([...ok, 0])), /1 bytes after the last tensor/);
  // a hole: the tensor starts 4 bytes into the data section
  const holed = raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}', four);
  assert.throws(() => nb.io.loadSafetensors(holed), /the data section has a hole at file bytes \d+\.\.\d+ \(before tensor 'a'\)/);
  // the header length one short of the truth: the last padding space becomes data, every tensor would shift by a byte
  const short = ok.slice();
  new DataView(short.buffer).setBigUint64(0, BigInt(Number(new DataView(ok.buffer).getBigUint64(0, true)) - 1), true);
  assert.throws(() => nb.io.loadSafetensors(short), /1 bytes after the last tensor .*header length that is off/);
  // duplicate keys, at the top and inside __metadata__
  const dup = raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', four);
  assert.throws(() => nb.io.loadSafetensors(dup), /header has the key "a" twice/);
  const dupMeta = raw('{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', four);
  assert.throws(() => nb.io.loadSafetensors(dupMeta), /header has the key "k" twice/);
  // a key that looks like an escape of another is a different key
  const escaped = raw(
    '{"a\\"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a\\\\b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
    four,
  );
  assert.deepEqual(Object.keys(nb.io.loadSafetensors(escaped)).sort(), ['a"b', "a\\b"]);
  // __proto__ as a tensor or metadata name
  const proto = raw('{"__proto__":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', four);
  assert.throws(() => nb.io.loadSafetensors(proto), /a tensor named '__proto__'/);
  const protoMeta = raw('{"__metadata__":{"__proto__":"x"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', four);
  assert.throws(() => nb.io.loadSafetensorsFile(protoMeta), /__metadata__ has a key named '__proto__'/);
  // a tensor named like an Object.prototype member is just a tensor
  const ctor = raw('{"constructor":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', four);
  const loaded = nb.io.loadSafetensors(ctor);
  assert.deepEqual(Object.keys(loaded), ["constructor"]);
  assert.deepEqual([...(loaded["constructor"] as unknown as nb.Tensor).data], [1, 2, 3, 4]);
});

test("models.get takes only the zoo's own names", () => {
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"])
    assert.throws(() => nb.models.get(name), /models.get: unknown model/);
});

test("edges: a 10,000-deep shape is reported without overflowing the stack; FIFOs, devices and directories are not read", () => {
  const deep = "[".repeat(10000) + "]".repeat(10000);
  const f = raw(`{"a":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`, new Uint8Array(0));
  assert.throws(() => nb.io.loadSafetensors(f), /tensor 'a': invalid shape a nested array of 1/);
  assert.throws(() => nb.io.loadSafetensors("/dev/zero"), /\/dev\/zero: not a regular file \(a character device\)/);
  assert.throws(() => nb.io.loadSafetensors(tmpdir()), /not a regular file \(a directory\)/);
  const fifo = join(mkdtempSync(join(tmpdir(), "nabla-fifo-")), "pipe");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
  // with no writer, opening it would block forever: it is rejected at once
  assert.throws(() => nb.io.loadSafetensors(fifo), /not a regular file \(a FIFO\)/);
  assert.throws(() => nb.data.readIdx(fifo), /not a regular file \(a FIFO\)/);
});

test("a Node Buffer, a Buffer slice of a larger one and an ArrayBuffer load the same as the path", () => {
  const dir = mkdtempSync(join(tmpdir(), "nabla-st-buf-"));
  const path = join(dir, "a.safetensors");
  nb.io.saveSafetensors(path, { a: nb.arange(3000).float(), b: nb.tensor([1.5, 2.5], { dtype: "float64" }) });
  const buf = readFileSync(path);
  const big = Buffer.alloc(buf.length + 3, 1);
  big.set(buf as ArrayLike<number>, 3);
  const padded = big.subarray(3);
  for (const input of [buf, padded, new Uint8Array(buf).buffer]) {
    const t = nb.io.loadSafetensors(input);
    assert.equal(t.a.data[2999], 2999);
    assert.deepEqual(Array.from(t.b.data), [1.5, 2.5]);
  }
  throwsWith(() => nb.io.loadSafetensors(42 as never), "parseSafetensors: expected a path, a Uint8Array or an ArrayBuffer, got number");
});
