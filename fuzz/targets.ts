// What is fuzzed: each target builds its valid seed files, makes case i's file from them, runs nabla's
// reader on it and judges the answer against the oracle (formats.ts) or against invariants of what was loaded.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync as gunzip, gzipSync } from "node:zlib";
import * as nb from "../src/index.js";
import { main as cli } from "../src/cli/commands.js";
import { Rng } from "./rng.js";
import { concat, mutateBytes, mutateJson, stringify } from "./mutate.js";
import {
  ST_SIZES,
  buildIdx,
  buildSafetensors,
  cifarOracle,
  idxOracle,
  safetensorsOracle,
  splitSafetensors,
  type StValue,
  CIFAR_RECORD,
} from "./formats.js";

export interface Case {
  bytes: Uint8Array;
  /** What was done, for the report of a failing case. */
  note: string;
  /** The file is valid by construction (a payload change of a valid file): it must load. */
  mustAccept?: boolean;
  /** Target-specific choices (which seed, which command). */
  info?: Record<string, unknown>;
}

export interface Target {
  name: string;
  /** Build the seed files (once per child process) in the scratch folder. */
  setup(dir: string): void;
  /** Case `i`'s file, from `rng` (seeded by the run's seed, the target and `i`). */
  make(rng: Rng, i: number): Case;
  /** Where case `c` is written (the file the reader is given). */
  file(dir: string, c: Case): string;
  /** Run the reader; throws to reject. */
  run(file: string, c: Case): unknown;
  /** For an accepted file: null, or why accepting it was wrong. */
  accepted(c: Case, result: unknown): string | null;
  /** Whether a rejection's message names what is wrong well enough (default: it names the file). */
  named?(c: Case, message: string, file: string): boolean;
  /** For a rejected file: null, or why rejecting it was wrong. */
  rejected(c: Case, message: string): string | null;
}

const gz = (b: Uint8Array) => new Uint8Array(gzipSync(b, { level: 6 }));
const isGz = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

// ---------------------------------------------------------------- safetensors

/** Float32 / int bytes of a typed array. */
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

/** A file from named tensors (dtype, shape, raw bytes), packed in order, and metadata. */
export function packSafetensors(
  parts: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[],
  metadata?: Record<string, string>,
  pad = 0,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const p of parts) {
    header[p.name] = { dtype: p.dtype, shape: p.shape, data_offsets: [off, off + p.bytes.length] };
    off += p.bytes.length;
  }
  return buildSafetensors(header, concat(...parts.map((p) => p.bytes)), pad);
}

function safetensorsSeeds(): Uint8Array[] {
  const r = new Rng(7);
  const f32 = (n: number) => bytesOf(Float32Array.from({ length: n }, () => r.u32() / 2 ** 32 - 0.5));
  const i64 = (n: number) => bytesOf(BigInt64Array.from({ length: n }, () => BigInt(r.int(2000) - 1000)));
  return [
    packSafetensors(
      [
        { name: "weight", dtype: "F32", shape: [2, 3], bytes: f32(6) },
        { name: "num_batches_tracked", dtype: "I64", shape: [], bytes: i64(1) },
        { name: "idx", dtype: "I64", shape: [4], bytes: i64(4) },
      ],
      { format: "pt", note: "seed" },
    ),
    packSafetensors(
      [
        { name: "a", dtype: "F64", shape: [3], bytes: bytesOf(Float64Array.of(1, -2.5, 1e-300)) },
        { name: "h", dtype: "F16", shape: [2, 2], bytes: bytesOf(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001)) },
        { name: "bf", dtype: "BF16", shape: [2], bytes: bytesOf(Uint16Array.of(0x3f80, 0xc2f7)) },
        { name: "u", dtype: "U8", shape: [3], bytes: Uint8Array.of(0, 128, 255) },
        { name: "b", dtype: "BOOL", shape: [2], bytes: Uint8Array.of(0, 1) },
        { name: "i8", dtype: "I8", shape: [1], bytes: Uint8Array.of(200) },
        { name: "i16", dtype: "I16", shape: [2], bytes: bytesOf(Int16Array.of(-300, 300)) },
        { name: "empty", dtype: "I32", shape: [0, 4], bytes: new Uint8Array(0) },
        { name: "i32", dtype: "I32", shape: [1, 1], bytes: bytesOf(Int32Array.of(-7)) },
      ],
      undefined,
      5,
    ),
    nb.io.serializeSafetensors({ "conv.weight": nb.randn([2, 1, 2, 2]), "fc.bias": nb.zeros([3], { dtype: "float64" }) }, { by: "nabla" }),
    buildSafetensors({}, new Uint8Array(0)),
  ];
}

/** A header text with one key repeated (JSON.parse would keep the second silently). */
function duplicateKeyText(header: Record<string, unknown>, rng: Rng): string {
  const text = JSON.stringify(header);
  const inner = [...text.matchAll(/\{"(dtype|shape|data_offsets|[^"]+)":/g)];
  const m = rng.pick(inner);
  if (!m) return text;
  const at = m.index! + 1;
  return `${text.slice(0, at)}"${m[1]}":${stringify(rng.pick([0, "F32", [1], {}]))},${text.slice(at)}`;
}

/** A change to a valid safetensors file: its header's JSON, its length field, its payload or its bytes. */
function mutateSafetensors(seed: Uint8Array, rng: Rng): Case {
  const mode = rng.int(100);
  const { header, data } = splitSafetensors(seed);
  if (mode < 40) {
    let h: unknown = header;
    const k = 1 + rng.int(2);
    for (let j = 0; j < k; j++) h = mutateJson(h, rng);
    return { bytes: buildSafetensors(stringify(h), data, rng.int(3)), note: "header JSON changed" };
  }
  if (mode < 48) return { bytes: buildSafetensors(duplicateKeyText(header, rng), data), note: "duplicate key" };
  if (mode < 56) {
    const b = seed.slice();
    const dv = new DataView(b.buffer);
    const n = Number(dv.getBigUint64(0, true));
    dv.setBigUint64(0, BigInt(rng.pick([n - 1, n + 1, n - 2, n + 8, 0, 2 ** 32 + n, 2 ** 40])) & 0xffffffffffffffffn, true);
    return { bytes: b, note: "header length changed" };
  }
  if (mode < 70) {
    // the data changed, the header not: valid unless an I64 leaves int32 (the oracle decides)
    const b = seed.slice();
    const start = seed.length - data.length;
    for (let j = rng.int(4); j >= 0 && data.length; j--) b[start + rng.int(data.length)] = rng.int(256);
    return { bytes: b, note: "payload changed" };
  }
  let b = seed;
  for (let j = 1 + rng.int(3); j > 0; j--) b = mutateBytes(b, rng);
  return { bytes: b, note: "bytes changed" };
}

function compareSafetensors(got: nb.io.SafetensorsFile, want: StValue): string | null {
  const names = Object.keys(got.tensors);
  if (names.length !== want.tensors.size || names.some((n) => !want.tensors.has(n)))
    return `tensor names [${names}] differ from the file's`;
  for (const [name, t] of want.tensors) {
    const g = got.tensors[name];
    if (g.shape.join() !== t.shape.join()) return `tensor '${name}' loaded with shape [${g.shape}], file says [${t.shape}]`;
    for (let i = 0; i < t.values.length; i++) {
      // F16 / BF16 load as float32: compare in float32
      const w = t.dtype === "F16" || t.dtype === "BF16" || t.dtype === "F32" ? Math.fround(t.values[i]) : t.values[i];
      if (!same(g.data[i], w)) return `tensor '${name}' element ${i} loaded as ${g.data[i]}, file holds ${w}`;
    }
  }
  const mk = Object.keys(got.metadata);
  if (mk.length !== want.metadata.size || mk.some((k) => want.metadata.get(k) !== got.metadata[k]))
    return "metadata differs from the file's";
  return null;
}

export const safetensorsTarget = (): Target => {
  let seeds: Uint8Array[] = [];
  return {
    name: "safetensors",
    setup() {
      seeds = safetensorsSeeds();
    },
    make: (rng) => mutateSafetensors(rng.pick(seeds), rng),
    file: (dir) => join(dir, "case.safetensors"),
    run: (file) => nb.io.loadSafetensorsFile(file),
    accepted(c, result) {
      const o = safetensorsOracle(c.bytes);
      if (!o.valid) return `accepted a file that is invalid (${o.why})`;
      return compareSafetensors(result as nb.io.SafetensorsFile, o.value);
    },
    rejected(c) {
      const o = safetensorsOracle(c.bytes);
      return o.valid ? "rejected a valid file" : null;
    },
  };
};

// ---------------------------------------------------------------- IDX and CIFAR

function idxSeeds(): { bytes: Uint8Array; dims: number }[] {
  const r = new Rng(11);
  const images = buildIdx([3, 4, 5], r.bytes(60));
  const labels = buildIdx(
    [7],
    Uint8Array.from({ length: 7 }, () => r.int(10)),
  );
  const empty = buildIdx([0, 28, 28], new Uint8Array(0));
  return [
    { bytes: images, dims: 3 },
    { bytes: labels, dims: 1 },
    { bytes: empty, dims: 3 },
    { bytes: gz(images), dims: 3 },
    { bytes: gz(labels), dims: 1 },
  ];
}

/** A change to a valid file that may be gzipped: to the compressed bytes, or to the content (then compressed again). */
function mutateMaybeGzip(seed: Uint8Array, rng: Rng, content: (b: Uint8Array) => Case): Case {
  if (isGz(seed) && rng.chance(0.6)) {
    const inner = content(new Uint8Array(gunzip(seed)));
    return { ...inner, bytes: gz(inner.bytes), note: `${inner.note}, gzipped` };
  }
  if (isGz(seed)) {
    let b = seed;
    for (let j = 1 + rng.int(2); j > 0; j--) b = mutateBytes(b, rng);
    return { bytes: b, note: "gzip bytes changed" };
  }
  return content(seed);
}

function mutateIdxContent(b: Uint8Array, rng: Rng, dims: number): Case {
  const mode = rng.int(100);
  if (mode < 25 && b.length >= 4 + 4 * dims) {
    const out = b.slice();
    const i = rng.int(dims);
    const d = new DataView(out.buffer).getUint32(4 + 4 * i, false);
    new DataView(out.buffer).setUint32(4 + 4 * i, rng.pick([0, 1, d + 1, d - 1, d * 2, 0xffffffff, 0x80000000, 60000]) >>> 0, false);
    return { bytes: out, note: `dimension ${i} changed` };
  }
  if (mode < 35) {
    const out = b.slice();
    out[rng.int(4)] = rng.pick([0, 1, 3, 8, 9, 0x0d, 255]);
    return { bytes: out, note: "magic changed" };
  }
  if (mode < 50 && b.length > 4 + 4 * dims) {
    const out = b.slice();
    out[4 + 4 * dims + rng.int(b.length - 4 - 4 * dims)] = rng.int(256);
    return { bytes: out, note: "payload changed", mustAccept: true };
  }
  let out = b;
  for (let j = 1 + rng.int(2); j > 0; j--) out = mutateBytes(out, rng);
  return { bytes: out, note: "bytes changed" };
}

/** A small .gz whose header promises a few bytes and whose content inflates to `mb` megabytes. */
function gzipBomb(header: Uint8Array, mb: number): Uint8Array {
  return gz(concat(header, new Uint8Array(mb << 20)));
}

export const idxTarget = (): Target => {
  let seeds: { bytes: Uint8Array; dims: number }[] = [];
  return {
    name: "idx",
    setup() {
      seeds = idxSeeds();
    },
    make(rng) {
      const s = rng.pick(seeds);
      if (rng.chance(0.01))
        return { bytes: gzipBomb(buildIdx([2, 2, 2], new Uint8Array(0)), 64), note: "gzip bomb (64 MB)", info: { dims: 3 } };
      const c = mutateMaybeGzip(s.bytes, rng, (b) => mutateIdxContent(b, rng, s.dims));
      return { ...c, info: { dims: s.dims } };
    },
    file: (dir) => join(dir, "case-idx-ubyte.gz"),
    run: (file, c) => nb.data.readIdx(file, c.info!.dims as number),
    accepted(c, result) {
      const o = idxOracle(c.bytes, c.info!.dims as number);
      if (!o.valid) return `accepted an invalid file (${o.why})`;
      const r = result as nb.data.IdxArray;
      if (r.shape.join() !== o.value.shape.join()) return `shape [${r.shape}] but the file says [${o.value.shape}]`;
      if (!equalBytes(r.data, o.value.data)) return "data differs from the file's";
      return null;
    },
    rejected(c) {
      return idxOracle(c.bytes, c.info!.dims as number).valid ? "rejected a valid file" : null;
    },
  };
};

export const cifarTarget = (): Target => {
  let seeds: Uint8Array[] = [];
  return {
    name: "cifar",
    setup() {
      const r = new Rng(13);
      const rec = (label: number) => concat(Uint8Array.of(label), r.bytes(3072));
      const two = concat(rec(3), rec(9));
      seeds = [two, rec(0), gz(two)];
    },
    make(rng) {
      if (rng.chance(0.005)) return { bytes: gzipBomb(Uint8Array.of(1), 200), note: "gzip bomb (200 MB)" };
      return mutateMaybeGzip(rng.pick(seeds), rng, (b) => {
        const mode = rng.int(100);
        if (mode < 30) {
          const out = b.slice();
          out[CIFAR_RECORD * rng.int(Math.max(1, Math.floor(b.length / CIFAR_RECORD)))] = rng.pick([9, 10, 11, 255, rng.int(256)]);
          return { bytes: out, note: "a label changed" };
        }
        if (mode < 45) {
          const out = b.slice();
          const i = rng.int(b.length);
          if (i % CIFAR_RECORD !== 0) out[i] = rng.int(256);
          return { bytes: out, note: "a pixel changed", mustAccept: true };
        }
        let out = b;
        for (let j = 1 + rng.int(2); j > 0; j--) out = mutateBytes(out, rng);
        return { bytes: out, note: "bytes changed" };
      });
    },
    file: (dir) => join(dir, "data_batch_1.bin"),
    run: (file) => nb.data.readCifar10([file]),
    accepted(c, result) {
      const o = cifarOracle(c.bytes);
      if (!o.valid) return `accepted an invalid file (${o.why})`;
      const r = result as nb.data.ImageSet;
      if (r.count !== o.value.labels.length || r.labels.some((l, i) => l !== o.value.labels[i])) return "labels differ from the file's";
      if (!equalBytes(r.images, o.value.images)) return "pixels differ from the file's";
      return null;
    },
    rejected(c) {
      return cifarOracle(c.bytes).valid ? "rejected a valid file" : null;
    },
  };
};

// ---------------------------------------------------------------- checkpoints

interface Objects {
  model: nb.nn.Module;
  optimizer: nb.optim.Optimizer<any>;
  scheduler: any;
  generators: Record<string, nb.Generator>;
  step(): void;
}

/** The objects a checkpoint of kind k restores into (fresh, the same every time). */
function objects(k: number): Objects {
  nb.manualSeed(1);
  const model = new nb.nn.Sequential(new nb.nn.Linear(4, 3), new nb.nn.BatchNorm1d(3), new nb.nn.ReLU(), new nb.nn.Linear(3, 2));
  const params = model.parameters();
  const x = nb.randn([5, 4]);
  const lossOf = () => model.forward(x).pow(2).mean();
  const grad = () => {
    optimizer.zeroGrad();
    const l = lossOf();
    l.backward();
    return l;
  };
  let optimizer: nb.optim.Optimizer<any>, scheduler: any;
  switch (k) {
    case 0:
      optimizer = new nb.optim.Adam(params, { lr: 0.01, amsgrad: true, weightDecay: 0.01 });
      scheduler = new nb.optim.lrScheduler.StepLR(optimizer, 2, 0.5);
      break;
    case 1:
      optimizer = new nb.optim.SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true });
      scheduler = new nb.optim.lrScheduler.ReduceLROnPlateau(optimizer, { patience: 1 });
      break;
    case 2:
      optimizer = new nb.optim.RMSprop(params, { lr: 0.01, centered: true, momentum: 0.5 });
      scheduler = new nb.optim.lrScheduler.OneCycleLR(optimizer, 0.1, { totalSteps: 20 });
      break;
    default:
      optimizer = new nb.optim.LBFGS(params, { lr: 0.5, historySize: 3 });
      scheduler = new nb.optim.lrScheduler.CosineAnnealingLR(optimizer, 10);
  }
  const step = () => {
    if (optimizer instanceof nb.optim.LBFGS) optimizer.step(() => grad());
    else {
      grad();
      optimizer.step();
    }
    if (scheduler instanceof nb.optim.lrScheduler.ReduceLROnPlateau) scheduler.step(lossOf().item());
    else scheduler.step();
  };
  return { model, optimizer, scheduler, generators: { data: new nb.Generator(5) }, step };
}

function checkpointSeed(dir: string, k: number): Uint8Array {
  const o = objects(k);
  for (let i = 0; i < 3; i++) o.step();
  o.generators.data.nextUint32();
  const file = join(dir, `seed-${k}.safetensors`);
  nb.train.saveCheckpoint(file, { ...o, epoch: 3, extra: { note: "seed", history: [{ epoch: 1, loss: 0.5 }] } });
  return new Uint8Array(readFileSync(file));
}

/** A change to a valid checkpoint: a metadata section's JSON, a tensor (shape, name, presence), its payload or its bytes. */
function mutateCheckpoint(seed: Uint8Array, rng: Rng): Case {
  const mode = rng.int(100);
  const { header } = splitSafetensors(seed);
  const o = safetensorsOracle(seed);
  if (!o.valid) throw new Error(`a checkpoint seed is invalid: ${o.why}`);
  const meta = Object.fromEntries(o.value.metadata);
  const parts = [...o.value.tensors].map(([name, t]) => {
    const e = header[name] as { data_offsets: [number, number] };
    const start = seed.length - splitSafetensors(seed).data.length;
    return { name, dtype: t.dtype, shape: t.shape, bytes: seed.slice(start + e.data_offsets[0], start + e.data_offsets[1]) };
  });
  if (mode < 45) {
    const keys = Object.keys(meta);
    const key = rng.pick(keys);
    let note = `metadata '${key}' changed`;
    if (key === "epoch" || key === "format" || rng.chance(0.15))
      meta[key] = rng.pick(["", "-1", "1.5", "NaN", "1e3", "01", " 2", "999999999", "1000000000", "nabla-checkpoint-2", meta[key] + "x"]);
    else {
      let v: unknown;
      try {
        v = JSON.parse(meta[key]);
      } catch {
        v = meta[key];
      }
      for (let j = 1 + rng.int(2); j > 0; j--) v = mutateJson(v, rng);
      meta[key] = stringify(v);
    }
    if (rng.chance(0.1)) {
      delete meta[key];
      note = `metadata '${key}' removed`;
    }
    return { bytes: packSafetensors(parts, meta), note };
  }
  if (mode < 65) {
    const i = rng.int(parts.length);
    const p = parts[i];
    const what = rng.int(4);
    if (what === 0) {
      const shape = rng.pick([[], [1], [p.shape.reduce((a, b) => a * b, 1)], [...p.shape, 1], p.shape.slice().reverse(), [0]]);
      const n = shape.reduce((a, b) => a * b, 1);
      parts[i] = { ...p, shape, bytes: new Uint8Array(n * ST_SIZES[p.dtype]) };
      return { bytes: packSafetensors(parts, meta), note: `tensor '${p.name}' reshaped to [${shape}]` };
    }
    if (what === 1) {
      parts.splice(i, 1);
      return { bytes: packSafetensors(parts, meta), note: `tensor '${p.name}' removed` };
    }
    if (what === 2) {
      const name = rng.pick([`${p.name}x`, "model.extra", "optimizer.state.9.exp_avg", "optimizer.state.0.zzz", "other", "__metadata__x"]);
      parts.push({ name, dtype: "F32", shape: [1], bytes: new Uint8Array(4) });
      return { bytes: packSafetensors(parts, meta), note: `tensor '${name}' added` };
    }
    const dtype = rng.pick(["F64", "I32", "F16", "U8", "I64"]);
    const n = p.shape.reduce((a, b) => a * b, 1);
    parts[i] = { ...p, dtype, bytes: new Uint8Array(n * ST_SIZES[dtype]) };
    return { bytes: packSafetensors(parts, meta), note: `tensor '${p.name}' as ${dtype}` };
  }
  if (mode < 80) {
    // finite values written into float tensors: a valid checkpoint holding other numbers
    const floats = parts.filter((p) => p.dtype === "F32" && p.bytes.length);
    for (let j = 1 + rng.int(3); j > 0 && floats.length; j--) {
      const p = rng.pick(floats);
      new DataView(p.bytes.buffer).setFloat32(4 * rng.int(p.bytes.length / 4), (rng.u32() / 2 ** 32) * 4 - 2, true);
    }
    return { bytes: packSafetensors(parts, meta), note: "tensor values changed", mustAccept: true };
  }
  let b = seed;
  for (let j = 1 + rng.int(3); j > 0; j--) b = mutateBytes(b, rng);
  return { bytes: b, note: "bytes changed" };
}

const isInt = (v: unknown, min = 0) => Number.isSafeInteger(v) && (v as number) >= min;

/** What must hold after a checkpoint loaded: the restored state is one the objects could have reached. */
function checkRestored(o: Objects, fresh: Objects, epoch: number): string | null {
  if (!isInt(epoch)) return `epoch ${epoch}`;
  const params = o.model.parameters();
  const sd = o.optimizer.stateDict();
  for (const [i, st] of Object.entries(sd.state)) {
    const p = params[Number(i)];
    if (!p) return `optimizer state for parameter ${i}, which does not exist`;
    for (const [k, v] of Object.entries(st)) {
      if (v instanceof nb.Tensor && (v.shape.join() !== p.shape.join() || v.dtype !== p.dtype))
        if (!(k === "step" && v.numel() === 1))
          return `optimizer.state.${i}.${k} is ${v.dtype} [${v.shape}], parameter ${p.dtype} [${p.shape}]`;
      if (typeof v === "number" && !Number.isFinite(v)) return `optimizer.state.${i}.${k} = ${v}`;
      if (k === "step" && typeof v === "number" && !isInt(v)) return `optimizer.state.${i}.step = ${v}`;
    }
  }
  // every restored group must be one the optimizer's constructor accepts
  const Ctor = o.optimizer.constructor as new (params: nb.Tensor[], opts: Record<string, unknown>) => unknown;
  for (const g of o.optimizer.paramGroups) {
    // the rates a scheduler writes into a group (initial, max and min lr, OneCycleLR's momenta) are not constructor options
    const { params: _p, initialLr, maxLr, minLr, baseMomentum, maxMomentum, ...hyper } = g as Record<string, unknown>;
    for (const [k, v] of Object.entries({ initialLr, maxLr, minLr, baseMomentum, maxMomentum }))
      if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) return `${k} ${v}`;
    try {
      new Ctor(params, hyper);
    } catch (e) {
      return `param group the constructor refuses: ${(e as Error).message}`;
    }
  }
  const want = fresh.scheduler.stateDict(),
    got = o.scheduler.stateDict();
  for (const k of Object.keys(got)) {
    if (!(k in want)) return `scheduler key '${k}' it does not have`;
    const v = got[k];
    const nums = Array.isArray(v) ? v.flat(2) : [v];
    if (k !== "best" && nums.some((x: unknown) => typeof x === "number" && !Number.isFinite(x)))
      return `scheduler ${k} = ${JSON.stringify(v)}`;
    if (typeof v !== typeof want[k] && !(k === "best")) return `scheduler ${k} is a ${typeof v}, not a ${typeof want[k]}`;
  }
  const [hi, lo] = o.generators.data.getState();
  if (!isInt(hi) || !isInt(lo) || hi >= 2 ** 32 || lo >= 2 ** 32) return `generator state ${o.generators.data.getState()}`;
  try {
    o.step(); // a restored state must keep training
  } catch (e) {
    return `the next step throws: ${(e as Error).message}`;
  }
  return null;
}

export const checkpointTarget = (): Target => {
  let seeds: Uint8Array[] = [];
  return {
    name: "checkpoint",
    setup(dir) {
      seeds = [0, 1, 2, 3].map((k) => checkpointSeed(dir, k));
    },
    make(rng) {
      const k = rng.int(seeds.length);
      return { ...mutateCheckpoint(seeds[k], rng), info: { kind: k } };
    },
    file: (dir) => join(dir, "case.ckpt.safetensors"),
    run(file, c) {
      const o = objects(c.info!.kind as number);
      const r = nb.train.loadCheckpoint(file, o);
      return { o, epoch: r.epoch };
    },
    accepted(c, result) {
      const { o, epoch } = result as { o: Objects; epoch: number };
      return checkRestored(o, objects(c.info!.kind as number), epoch);
    },
    rejected: (c) => (c.mustAccept ? "rejected a valid checkpoint" : null),
  };
};

// ---------------------------------------------------------------- the CLI's file arguments

/** Run the CLI in this process, capturing what it prints. */
function runCli(argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [],
    err: string[] = [];
  const log = console.log,
    error = console.error,
    write = process.stderr.write;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = cli(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

/** The shipped Fashion-MNIST slice (this file runs from .test-build/fuzz/). */
const SLICE = fileURLToPath(new URL("../../data/fashion-mnist-slice/", import.meta.url));
const TINY_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

export const cliTarget = (): Target => {
  let ckpt = new Uint8Array(0),
    tiny = "",
    scratch = "";
  const data: Record<string, Uint8Array> = {};
  return {
    name: "cli",
    setup(dir) {
      // a tiny Fashion-MNIST (48 training, 24 test images of the shipped slice) and a checkpoint trained on it
      tiny = join(dir, "tiny");
      mkdirSync(tiny, { recursive: true });
      for (const f of TINY_FILES) {
        const a = nb.data.readIdx(join(SLICE, f));
        const n = f.startsWith("train") ? 48 : 24;
        const per = a.data.length / a.shape[0];
        data[f] = gz(buildIdx([n, ...a.shape.slice(1)], a.data.subarray(0, n * per)));
        writeFileSync(join(tiny, f), data[f]);
      }
      const r = runCli(["train", "--data", tiny, "--epochs", "1", "--batch-size", "16", "--out", join(dir, "seed-run")]);
      if (r.code !== 0) throw new Error(`the CLI seed run failed: ${r.err}`);
      ckpt = new Uint8Array(readFileSync(join(dir, "seed-run", "checkpoint.safetensors")));
      scratch = dir;
    },
    make(rng) {
      if (rng.chance(0.25)) {
        const f = rng.pick(TINY_FILES);
        const dims = f.includes("labels") ? 1 : 3;
        const c = mutateMaybeGzip(data[f], rng, (b) => mutateIdxContent(b, rng, dims));
        // a changed pixel keeps the data valid; a changed label byte may not (labels must be < 10)
        return { ...c, mustAccept: c.mustAccept && dims === 3, info: { command: "eval-data", dataFile: f } };
      }
      const c = mutateCheckpoint(ckpt, rng);
      return { ...c, info: { command: rng.chance(0.2) ? "resume" : "eval" } };
    },
    file(dir, c) {
      if (c.info!.command !== "eval-data") return join(dir, "case-checkpoint.safetensors");
      const d = join(dir, "data");
      mkdirSync(d, { recursive: true });
      for (const f of TINY_FILES) writeFileSync(join(d, f), data[f]);
      return join(d, c.info!.dataFile as string);
    },
    run(file, c) {
      const cmd = c.info!.command;
      let argv: string[];
      if (cmd === "eval-data") {
        const ck = join(scratch, "seed-run", "checkpoint.safetensors");
        argv = ["eval", "--checkpoint", ck, "--data", join(file, "..")];
      } else if (cmd === "eval") argv = ["eval", "--checkpoint", file, "--data", tiny];
      else argv = ["train", "--resume", file, "--data", tiny, "--epochs", "2", "--batch-size", "16", "--out", join(scratch, "resume-run")];
      const r = runCli(argv);
      if (r.code !== 0) throw new Error(r.err || `exit code ${r.code} with no message`);
      return r;
    },
    accepted(c, result) {
      const { out, err } = result as { out: string; err: string };
      if (/\n\s+at /.test(err)) return "printed a stack trace";
      if (c.info!.command === "resume")
        return /test accuracy: \d+\.\d\d%|nothing to do/.test(out) || out.includes("nabla train")
          ? null
          : `unexpected output: ${out.slice(-200)}`;
      const m = /loss (\S+), top-1 (\S+)%/.exec(out);
      if (!m) return `no result line in: ${out.slice(-200)}`;
      const loss = Number(m[1]),
        acc = Number(m[2]);
      if (!(acc >= 0 && acc <= 100)) return `top-1 ${m[2]}%`;
      // a non-finite loss is the honest answer for a checkpoint holding non-finite weights or a negative running variance
      if (!Number.isFinite(loss) && !(c.info!.command === "eval" && holdsNonFinite(c.bytes))) return `evaluated to loss ${m[1]}`;
      return null;
    },
    // a resumed run whose restored weights (a payload change) make the loss diverge stops with fit's own message
    named: (c, message, file) =>
      message.includes(file) || (c.info!.command === "resume" && /the training loss is (NaN|-?Infinity)/.test(message)),
    rejected(c, message) {
      if (/\n\s+at /.test(message)) return "printed a stack trace";
      // a valid file whose weights (a payload change) make the resumed training diverge: fit stops, as it should
      if (c.info!.command === "resume" && /the training loss is (NaN|-?Infinity)/.test(message)) return null;
      return c.mustAccept ? "rejected a valid file" : null;
    },
  };
};

/** Whether a checkpoint's model tensors hold a non-finite value or a negative BatchNorm running variance. */
function holdsNonFinite(bytes: Uint8Array): boolean {
  const o = safetensorsOracle(bytes);
  if (!o.valid) return false;
  for (const [name, t] of o.value.tensors) {
    if (!name.startsWith("model.")) continue;
    if (t.values.some((v) => !Number.isFinite(v) || (name.endsWith("running_var") && v < 0))) return true;
  }
  return false;
}

/** The targets `npm run fuzz` runs. */
export const TARGETS: Record<string, () => Target> = {
  safetensors: safetensorsTarget,
  idx: idxTarget,
  cifar: cifarTarget,
  checkpoint: checkpointTarget,
  cli: cliTarget,
};
