// npm run bench: nabla (current backend) and PyTorch (Debian's python3-torch, if present) on the same
// workloads in the same run, alternating, reporting medians and nabla/PyTorch ratios; results also as
// JSON (bench-results.json). GEMM is also compared with OpenBLAS through numpy (its AVX-512 kernels:
// OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for that command only).

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import * as nb from "../src/index.js";
import { benchModel } from "./models.js";
import { freshOutputCost, gemmRates, median, timeGemm, timeIt } from "./timing.js";

const PY = "/usr/bin/python3";
const hasTorch =
  existsSync(PY) &&
  (() => {
    try {
      execFileSync(PY, ["-c", "import torch"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
/** The environment for a PyTorch run on `threads` threads: torch.set_num_threads does not reach Debian's
 * OpenBLAS (its GEMMs ran on 2 threads in a "1 thread" run: 170–176 GFLOP/s, 97 with OPENBLAS_NUM_THREADS=1). */
function threadsEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
}

function python(script: string, env: NodeJS.ProcessEnv = process.env): any {
  return JSON.parse(execFileSync(PY, ["-c", script], { encoding: "utf8", env, stdio: ["ignore", "pipe", "ignore"] }));
}

/** One round of peer GEMM timings for every size: PyTorch on `threads` threads and, optionally, numpy
 * (OpenBLAS) in the same process; the same timing rule as timeGemm. Prints {n: {torch, numpy?}} in seconds. */
const PEER_GEMM = (sizes: number[], threads: number, withNumpy: boolean) => `
import numpy as np, torch, time, json
torch.set_num_threads(${threads})
def timeit(f):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 0.2: f()
    ts = []
    while len(ts) < 5 or sum(ts) < 0.3:
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]
out = {}
for n in ${JSON.stringify(sizes)}:
    r = {}
    if ${withNumpy ? "True" : "False"}:
        a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
        r["numpy"] = timeit(lambda: a @ b)
    x, y = torch.randn(n, n), torch.randn(n, n)
    r["torch"] = timeit(lambda: x @ y)
    out[n] = r
print(json.dumps(out))`;

/** images/s of training (forward, backward, step) and of inference, for a model and batch. */
const TORCH_MODEL = (kind: string, batch: number, threads: number, steps: number) => `
import torch, torch.nn as nn, torch.nn.functional as F, time, json, torchvision
torch.set_num_threads(${threads}); torch.manual_seed(0)
kind = "${kind}"
if kind == "lenet5":
    m = nn.Sequential(nn.Conv2d(1,6,5,padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6,16,5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400,120), nn.ReLU(), nn.Linear(120,84), nn.ReLU(), nn.Linear(84,10)); shape = (1, 28, 28)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
elif kind == "convnet_bn":
    m = nn.Sequential(nn.Conv2d(1,16,3,padding=1,bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16,32,3,padding=1,bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1568,128,bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128,10)); shape = (1, 28, 28)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
else:
    m = torchvision.models.resnet18(num_classes=10); m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False); m.maxpool = nn.Identity(); shape = (3, 32, 32)
    opt = torch.optim.SGD(m.parameters(), 0.1, momentum=0.9)
x = torch.randn(${batch}, *shape); y = torch.randint(0, 10, (${batch},))
def train():
    opt.zero_grad(); F.cross_entropy(m(x), y).backward(); opt.step()
def infer():
    with torch.no_grad(): m(x)
out = {}
for name, fn in (("train", train), ("infer", infer)):
    m.train(name == "train")
    i, t0 = 0, time.perf_counter()
    while i < 2 or time.perf_counter() - t0 < 0.5:  # the same warm-up as nabla's timeIt
        fn(); i += 1
    ts = []
    for _ in range(${steps}):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    out[name] = ${batch} / sorted(ts)[len(ts) // 2]
print(json.dumps(out))`;

/** images/s of a training step and of inference, at the given float32 precision (nb.backend.fp32Precision). */
function nablaModel(kind: string, batch: number, steps: number, precision: "ieee" | "fast" = "ieee"): { train: number; infer: number } {
  const saved = nb.backend.fp32Precision;
  nb.backend.fp32Precision = precision;
  try {
    return nablaModelAt(kind, batch, steps);
  } finally {
    nb.backend.fp32Precision = saved;
  }
}
function nablaModelAt(kind: string, batch: number, steps: number): { train: number; infer: number } {
  const { model: m, shape } = benchModel(kind);
  const opt =
    kind === "resnet18" ? new nb.optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }) : new nb.optim.Adam(m.parameters(), { lr: 1e-3 });
  const x = nb.randn([batch, ...shape]),
    y = nb.randint(0, 10, [batch]);
  m.train();
  const tTrain = timeIt(() => {
    opt.zeroGrad();
    nb.nn.functional.crossEntropy(m.forward(x), y).backward();
    opt.step();
  }, steps);
  m.eval();
  const tInfer = timeIt(() => nb.noGrad(() => m.forward(x)), steps);
  return { train: batch / tTrain, infer: batch / tInfer };
}

const results: Record<string, unknown> = { backend: nb.backend.getBackend().name, torch: hasTorch };
// the CPU model (it changes between sessions of the shared machine): name, family, model
const cpuInfo = (() => {
  try {
    const txt = readFileSync("/proc/cpuinfo", "utf8");
    const field = (k: string) => txt.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, "m"))?.[1] ?? "?";
    return `${field("model name")}, family ${field("cpu family")} model ${field("model")}, ${cpus().length} CPUs`;
  } catch {
    return `${cpus()[0]?.model ?? "?"}, ${cpus().length} CPUs`;
  }
})();
results.cpu = cpuInfo;
console.log(`cpu: ${cpuInfo}`);
console.log(
  `nabla backend: ${nb.backend.getBackend().name}${hasTorch ? "" : " (PyTorch not found at /usr/bin/python3: apt-get install python3-torch python3-torchvision for the comparison)"}`,
);

// `node .test-build/bench/native.js gemm` (or `models`, `onnx`, `wasm`) runs one part only; `models lenet5,convnet_bn` some models
const part = process.argv[2];
const only = process.argv[3]?.split(",");
// GEMM: rounds that alternate nabla (every size) with the peers (every size, two Python processes: numpy
// + PyTorch on 2 threads with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, and PyTorch on 1 thread), so
// that a slow spell of this shared VM hits both sides; the figures are medians over the rounds.
const SIZES = [256, 512, 1024, 2048],
  ROUNDS = 3;
if (part !== "models" && part !== "onnx" && part !== "wasm") {
  console.log(
    `\nGEMM float32, GFLOP/s (${ROUNDS} alternating rounds; in each, 0.2 s warm-up then the median of ≥ 5 calls and ≥ 0.3 s; medians over the rounds)`,
  );
  const mats = SIZES.map((n) => [nb.randn([n, n]), nb.randn([n, n])] as const);
  const rounds: { nabla: number; torch1: number; torch2: number; blas: number }[][] = [];
  const blasEnv = threadsEnv(2);
  delete blasEnv.OPENBLAS_CORETYPE;
  delete blasEnv.OPENBLAS_L2_SIZE;
  for (let r = 0; r < ROUNDS; r++) {
    const nabla = mats.map(([A, B]) => timeGemm(() => nb.matmul(A, B)));
    const p2 = hasTorch ? python(PEER_GEMM(SIZES, 2, true), blasEnv) : null;
    const p1 = hasTorch ? python(PEER_GEMM(SIZES, 1, false), threadsEnv(1)) : null;
    rounds.push(
      SIZES.map((n, i) => ({
        nabla: nabla[i],
        torch1: p1 ? p1[n].torch : NaN,
        torch2: p2 ? p2[n].torch : NaN,
        blas: p2 ? p2[n].numpy : NaN,
      })),
    );
  }
  SIZES.forEach((n, i) => {
    const gf = (t: number) => (2 * n ** 3) / t / 1e9;
    const col = (k: "nabla" | "torch1" | "torch2" | "blas") => median(rounds.map((r) => gf(r[i][k])));
    const nabla = col("nabla"),
      torch1 = col("torch1"),
      torch2 = col("torch2"),
      blas = col("blas");
    const perRound = rounds.map((r) => r[i].blas / r[i].nabla);
    console.log(
      `  ${n}: nabla ${nabla.toFixed(1)}  PyTorch ${torch1.toFixed(1)} (1 thread) / ${torch2.toFixed(1)} (2)  OpenBLAS ${blas.toFixed(1)}  ` +
        `nabla/PyTorch-best ${(nabla / Math.max(torch1, torch2)).toFixed(2)}  nabla/OpenBLAS ${(nabla / blas).toFixed(2)} ` +
        `(rounds ${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`,
    );
    results[`gemm${n}`] = { nabla, torch1, torch2, openblas: blas, nablaOverOpenblasPerRound: perRound };
  });
}

if (part !== "gemm" && part !== "onnx" && part !== "wasm")
  console.log("\nModels, images/s (median step; PyTorch at its best of 1 and 2 threads)");
const MODELS = [
  ["lenet5", 64, 30],
  ["convnet_bn", 128, 15],
  ["resnet18", 64, 3],
] as const;
for (const [kind, batch, steps] of part === "gemm" || part === "onnx" || part === "wasm"
  ? []
  : MODELS.filter(([k]) => !only || only.includes(k))) {
  // ResNet-18 also in nb.backend.fp32Precision = "fast" (its 3×3 layers are what that mode changes), in
  // the same alternation
  const modes = kind === "resnet18" ? (["ieee", "fast"] as const) : (["ieee"] as const);
  const a = modes.map((p) => nablaModel(kind, batch, steps, p));
  const t1 = hasTorch ? python(TORCH_MODEL(kind, batch, 1, steps), threadsEnv(1)) : { train: NaN, infer: NaN };
  const t2 = hasTorch ? python(TORCH_MODEL(kind, batch, 2, steps), threadsEnv(2)) : { train: NaN, infer: NaN };
  const b = modes.map((p) => nablaModel(kind, batch, steps, p));
  const best = { train: Math.max(t1.train, t2.train), infer: Math.max(t1.infer, t2.infer) };
  const entry: Record<string, unknown> = { torch1: t1, torch2: t2 };
  modes.forEach((mode, i) => {
    const n = { train: Math.max(a[i].train, b[i].train), infer: Math.max(a[i].infer, b[i].infer) };
    console.log(
      `  ${kind} b${batch}${modes.length > 1 ? ` (${mode})` : ""}: train nabla ${n.train.toFixed(0)} vs PyTorch ${best.train.toFixed(0)} ` +
        `(ratio ${(n.train / best.train).toFixed(2)}); inference nabla ${n.infer.toFixed(0)} vs PyTorch ${best.infer.toFixed(0)} (ratio ${(n.infer / best.infer).toFixed(2)})`,
    );
    entry[mode === "ieee" ? "nabla" : "nablaFast"] = n;
  });
  results[kind] = entry;
}
// The wasm backend on 1 thread (wasm/nabla.wasm) and 2 (wasm/nabla-threads.wasm, a pool of workers) beside
// the current backend, alternating, in Node and in headless Chromium: float32 GEMM, LeNet-5 b64 (Adam)
// training / inference, and in Chromium inference against onnxruntime-web at the same thread count.
// `native.js wasm` runs this part alone.
const wasmFile = new URL("../../wasm/nabla-threads.wasm", import.meta.url);
if (part === undefined || part === "wasm") {
  if (!existsSync(wasmFile)) console.log("\nwasm/nabla-threads.wasm was not built (npm run build:wasm): the wasm column is skipped");
  else {
    const base = nb.backend.getBackend().name;
    const THREADS = [1, 2] as const;
    for (const threads of THREADS) {
      const b = await nb.backend.loadWasm(undefined, { threads });
      nb.backend.registerBackend({ ...b, name: `wasm-${threads}` });
    }
    const on = <T>(name: string, fn: () => T): T => {
      nb.backend.setBackend(name);
      try {
        return fn();
      } finally {
        nb.backend.setBackend(base);
      }
    };
    const chromium = await openBenchPage();
    console.log(
      `\nwasm backend (SIMD128) on 1 and 2 threads in Node${chromium ? " and in headless Chromium (examples/browser ?bench=1, cross-origin isolated)" : ""} vs ${base} in Node: medians of 3 alternating rounds`,
    );
    if (!chromium) console.log("  (no Chromium column: apt-get install chromium, and playwright-core)");
    type Round = { train: number; infer: number };
    type Gemm = { fresh: Record<number, number[]>; out: Record<number, number[]> };
    const SIZES = [256, 512, 1024];
    const rounds: {
      wasm: Record<number, Round>;
      base: Round;
      // GEMM on wasm-1, wasm-2 and the base backend, timed in turn (timeInTurn)
      gemm: Gemm;
      chromium: Record<number, PageBench> | null;
      freshNode: { fresh: number; reused: number };
    }[] = [];
    for (let r = 0; r < 3; r++) {
      const wasm: Record<number, Round> = {},
        page: Record<number, PageBench> = {};
      for (const t of THREADS) wasm[t] = on(`wasm-${t}`, () => nablaModel("lenet5", 64, 30));
      const gemm = gemmRates(nb, SIZES, ["wasm-1", "wasm-2", base]);
      if (chromium) for (const t of THREADS) page[t] = await chromium.run(t);
      rounds.push({ wasm, base: nablaModel("lenet5", 64, 30), gemm, chromium: chromium ? page : null, freshNode: freshOutputCost() });
    }
    await chromium?.close();
    const med = (pick: (r: (typeof rounds)[number]) => number | undefined) => median(rounds.map((r) => pick(r) ?? NaN));
    // "a on 1 thread / b on 2 (×b/a)"
    const pair = (one: number, two: number, digits: number) =>
      `${one.toFixed(digits)} / ${two.toFixed(digits)} (×${(two / one).toFixed(2)})`;
    console.log("  wasm figures: 1 thread / 2 threads (speed-up)");
    // GEMM into a reused out= tensor (the kernel, as BLAS benchmarks time it), then with a fresh output; the
    // 1- and 2-thread figures of each engine come from calls timed in turn, so a slow spell of the shared
    // machine cannot land on one of them alone (the page's from its 2-thread run, which loads both modules)
    for (const [key, how] of [
      ["out", "into out="],
      ["fresh", "fresh output"],
    ] as const)
      for (const n of SIZES) {
        const w = [0, 1].map((i) => med((r) => r.gemm[key][n][i])),
          c = [0, 1].map((i) => med((r) => r.chromium?.[2].gemm?.[key][n][i])),
          b = med((r) => r.gemm[key][n][2]);
        console.log(
          `  GEMM ${n} ${how}, GFLOP/s: wasm ${pair(w[0], w[1], 1)} in Node${chromium ? `, ${pair(c[0], c[1], 1)} in Chromium` : ""}; ${base} ${b.toFixed(1)}`,
        );
        results[`wasm_${key === "fresh" ? "gemm" : "gemm_out"}${n}`] = {
          wasmNode1: w[0],
          wasmNode2: w[1],
          wasmChromium1: c[0],
          wasmChromium2: c[1],
          [base]: b,
        };
      }
    for (const k of ["train", "infer"] as const) {
      const w = THREADS.map((t) => med((r) => r.wasm[t][k])),
        c = THREADS.map((t) => med((r) => r.chromium?.[t][k])),
        b = med((r) => r.base[k]);
      console.log(
        `  lenet5 b64 ${k === "train" ? "training" : "inference"} images/s: wasm ${pair(w[0], w[1], 0)} in Node${chromium ? `, ${pair(c[0], c[1], 0)} in Chromium` : ""}; ${base} ${b.toFixed(0)}`,
      );
      results[`wasm_lenet5_${k}`] = { wasmNode1: w[0], wasmNode2: w[1], wasmChromium1: c[0], wasmChromium2: c[1], [base]: b };
    }
    // what a fresh output array costs on each engine (every kernel call writes one)
    const fresh = (k: "fresh" | "reused") => med((r) => r.freshNode[k]),
      freshC = (k: "fresh" | "reused") => med((r) => r.chromium?.[1].fresh[k]);
    console.log(
      `  writing a 256 KB output array, µs: fresh ${fresh("fresh").toFixed(1)} / reused ${fresh("reused").toFixed(1)} in Node` +
        (chromium ? `, fresh ${freshC("fresh").toFixed(1)} / reused ${freshC("reused").toFixed(1)} in Chromium` : ""),
    );
    results.fresh_output_256kb_us = {
      node: fresh("fresh"),
      nodeReused: fresh("reused"),
      chromium: freshC("fresh"),
      chromiumReused: freshC("reused"),
    };
    if (rounds.every((r) => THREADS.every((t) => r.chromium?.[t].ort))) {
      for (const [model, label] of [
        ["lenet5", "lenet5 b64"],
        ["resnet18", "resnet18 (3×32×32) b16"],
      ] as const)
        for (const t of THREADS) {
          const o = med((r) => r.chromium?.[t].ort?.[model].ort),
            n = med((r) => r.chromium?.[t].ort?.[model].nabla);
          console.log(
            `  ${label} inference in Chromium, ${t} thread${t > 1 ? "s" : ""}, nabla's ONNX export: onnxruntime-web ${o.toFixed(0)} images/s, nabla wasm ${n.toFixed(0)} (ratio ${(n / o).toFixed(2)})`,
          );
          results[`wasm_${model}_onnxruntime_web_${t}`] = { ort: o, nabla: n };
        }
    } else if (chromium) console.log("  (no onnxruntime-web column: npm install --save-dev onnxruntime-web)");
  }
}

type OrtVsNabla = { ort: number; nabla: number };
/** What the page's bench mode reports (examples/browser/bench.ts). */
type PageBench = {
  /** GEMM GFLOP/s on 1 and 2 threads, timed in turn (the 2-thread run only). */
  gemm: { fresh: Record<number, number[]>; out: Record<number, number[]> } | null;
  fresh: { fresh: number; reused: number };
  train: number;
  infer: number;
  threads: number;
  ort: Record<"lenet5" | "resnet18", OrtVsNabla> | null;
};

/** The example page's bench mode in headless Chromium (Debian's, by path), or null when there is none. */
async function openBenchPage(): Promise<{ run(threads: number): Promise<PageBench>; close(): Promise<void> } | null> {
  const exe = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  let pw: typeof import("playwright-core");
  try {
    pw = await import("playwright-core");
  } catch {
    return null;
  }
  if (!exe) return null;
  const server = (await import(new URL("../../scripts/example-browser.mjs", import.meta.url).href)) as {
    buildExample(): Promise<void>;
    serveExample(port: number): Promise<{ url: string; close(): Promise<void> }>;
  };
  await server.buildExample();
  const srv = await server.serveExample(0);
  const browser = await pw.chromium.launch({ executablePath: exe, args: ["--no-sandbox"] });
  return {
    async run(threads: number) {
      const page = await browser.newPage();
      await page.goto(`${srv.url}?backend=wasm&bench=1&threads=${threads}`);
      await page.waitForSelector("body[data-bench]", { timeout: 300_000 });
      const r = JSON.parse((await page.getAttribute("body", "data-bench"))!) as PageBench;
      await page.close();
      if (r.threads !== threads) throw new Error(`bench page: asked for ${threads} threads, it ran ${r.threads}`);
      return r;
    },
    async close() {
      await browser.close();
      await srv.close();
    },
  };
}
// Inference against onnxruntime-node on nabla's own ONNX export of the same model, each engine at 1 and 2
// threads in its own process, alternating over 3 rounds; medians. `native.js onnx` runs this part alone.
const hasOrt = (() => {
  try {
    execFileSync(process.execPath, ["-e", "require('onnxruntime-node')"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (part === undefined || part === "onnx") {
  if (!hasOrt)
    console.log("\nonnxruntime-node is not installed: its inference column is skipped (npm install --save-dev onnxruntime-node)");
  else {
    console.log(
      "\nInference vs onnxruntime-node (nabla's ONNX export), images/s: medians of 3 alternating rounds, ratio nabla/onnxruntime",
    );
    const worker = new URL("./infer.js", import.meta.url).pathname;
    const once = (engine: string, kind: string, batch: number, threads: number): number =>
      JSON.parse(
        execFileSync(process.execPath, [worker, engine, kind, String(batch), String(threads)], {
          encoding: "utf8",
          env: { ...process.env, NABLA_NUM_THREADS: String(threads) },
        }),
      ).imagesPerSecond;
    for (const [kind, batch] of MODELS.filter(([k]) => !only || only.includes(k))) {
      const row: Record<string, number> = {};
      for (const threads of [1, 2]) {
        const n: number[] = [],
          o: number[] = [];
        for (let r = 0; r < 3; r++) {
          n.push(once("nabla", kind, batch, threads));
          o.push(once("ort", kind, batch, threads));
        }
        row[`nabla${threads}`] = median(n);
        row[`ort${threads}`] = median(o);
      }
      console.log(
        `  ${kind} b${batch}: 1 thread nabla ${row.nabla1.toFixed(0)} vs onnxruntime ${row.ort1.toFixed(0)} (ratio ${(row.nabla1 / row.ort1).toFixed(2)}); ` +
          `2 threads nabla ${row.nabla2.toFixed(0)} vs onnxruntime ${row.ort2.toFixed(0)} (ratio ${(row.nabla2 / row.ort2).toFixed(2)})`,
      );
      results[`${kind}_onnxruntime`] = row;
    }
  }
}
writeFileSync("bench-results.json", JSON.stringify(results, null, 2));
console.log("\nwritten bench-results.json");
