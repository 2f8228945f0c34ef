// Per-layer kernel times, nabla beside PyTorch on the same shapes: the small-input ResNet-18's
// convolutions at batch 64 (each pass: forward, input gradient, weight gradient; nabla in "ieee" and
// "fast") and LeNet-5's fully connected layers. Each side runs in its own process, alternating over 3
// rounds; each figure is the median over the rounds of the median of ≥ 5 calls (≥ 0.2 s), in ms.
// Run: npm run build:test && node .test-build/bench/layers.js

import { execFileSync } from "node:child_process";
import * as nb from "../src/index.js";
import type { backend as B } from "../src/index.js";

type Conv = { name: string; n: number; c: number; o: number; m: number; k: number; s: number; p: number };
const CONVS: Conv[] = [
  { name: "layer1 3×3", n: 64, c: 64, o: 64, m: 32, k: 3, s: 1, p: 1 },
  { name: "layer2 3×3 s2", n: 64, c: 64, o: 128, m: 32, k: 3, s: 2, p: 1 },
  { name: "layer2 3×3", n: 64, c: 128, o: 128, m: 16, k: 3, s: 1, p: 1 },
  { name: "layer3 3×3 s2", n: 64, c: 128, o: 256, m: 16, k: 3, s: 2, p: 1 },
  { name: "layer3 3×3", n: 64, c: 256, o: 256, m: 8, k: 3, s: 1, p: 1 },
  { name: "layer4 3×3 s2", n: 64, c: 256, o: 512, m: 8, k: 3, s: 2, p: 1 },
  { name: "layer4 3×3", n: 64, c: 512, o: 512, m: 4, k: 3, s: 1, p: 1 },
];
// LeNet-5's linear layers at batch 64: [in, out]
const FCS: [number, number][] = [
  [400, 120],
  [120, 84],
  [84, 10],
];
const ROUNDS = 3;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

function timeMs(fn: () => void): number {
  fn();
  const ts: number[] = [];
  const t0 = performance.now();
  while (ts.length < 5 || performance.now() - t0 < 200) {
    const t = performance.now();
    fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

function nablaRound(): Record<string, number> {
  const be = nb.backend.getBackend();
  const out: Record<string, number> = {};
  for (const L of CONVS) {
    const oh = Math.floor((L.m + 2 * L.p - L.k) / L.s) + 1;
    const g: B.ConvGeometry = {
      n: L.n,
      c: L.c,
      h: L.m,
      w: L.m,
      kh: L.k,
      kw: L.k,
      sh: L.s,
      sw: L.s,
      ph: L.p,
      pw: L.p,
      dh: 1,
      dw: 1,
      oh,
      ow: oh,
      o: L.o,
      groups: 1,
    };
    const x = nb.randn([L.n, L.c, L.m, L.m]).data,
      w = nb.randn([L.o, L.c, L.k, L.k]).data,
      gy = nb.randn([L.n, L.o, oh, oh]).data;
    const y = new Float32Array(gy.length),
      gx = new Float32Array(x.length),
      gw = new Float32Array(w.length);
    for (const mode of ["ieee", "fast"] as const) {
      nb.backend.fp32Precision = mode;
      out[`${L.name}|forward|${mode}`] = timeMs(() => be.conv2d(x, w, g, y));
      out[`${L.name}|input grad|${mode}`] = timeMs(() => be.conv2dBackwardInput(gy, w, g, gx));
      out[`${L.name}|weight grad|${mode}`] = timeMs(() => be.conv2dBackwardWeight(x, gy, g, gw));
    }
    nb.backend.fp32Precision = "ieee";
  }
  for (const [i, o] of FCS) {
    const x = nb.randn([64, i]),
      w = nb.randn([o, i]),
      gy = nb.randn([64, o]);
    const name = `LeNet fc ${i}→${o}`;
    // forward x·wᵀ (NT), input gradient gy·w (NN), weight gradient gyᵀ·x (TN)
    out[`${name}|forward|ieee`] = timeMs(() => nb.matmul(x, w.t()));
    out[`${name}|input grad|ieee`] = timeMs(() => nb.matmul(gy, w));
    out[`${name}|weight grad|ieee`] = timeMs(() => nb.matmul(gy.t(), x));
  }
  return out;
}

const TORCH = `
import torch, time, json
torch.set_num_threads(2)
def tm(f):
    f(); ts = []; t0 = time.perf_counter()
    while len(ts) < 5 or time.perf_counter() - t0 < 0.2:
        t = time.perf_counter(); f(); ts.append((time.perf_counter() - t) * 1e3)
    return sorted(ts)[len(ts) // 2]
out = {}
for L in ${JSON.stringify(CONVS)}:
    oh = (L["m"] + 2 * L["p"] - L["k"]) // L["s"] + 1
    x = torch.randn(L["n"], L["c"], L["m"], L["m"]); w = torch.randn(L["o"], L["c"], L["k"], L["k"]); gy = torch.randn(L["n"], L["o"], oh, oh)
    st, pd = [L["s"]] * 2, [L["p"]] * 2
    bw = lambda mask: torch.ops.aten.convolution_backward(gy, x, w, None, st, pd, [1, 1], False, [0, 0], 1, mask)
    with torch.no_grad():
        out[L["name"] + "|forward"] = tm(lambda: torch.nn.functional.conv2d(x, w, None, L["s"], L["p"]))
        out[L["name"] + "|input grad"] = tm(lambda: bw([True, False, False]))
        out[L["name"] + "|weight grad"] = tm(lambda: bw([False, True, False]))
for i, o in ${JSON.stringify(FCS)}:
    x = torch.randn(64, i); w = torch.randn(o, i); gy = torch.randn(64, o); name = f"LeNet fc {i}→{o}"
    out[name + "|forward"] = tm(lambda: x @ w.t())
    out[name + "|input grad"] = tm(lambda: gy @ w)
    out[name + "|weight grad"] = tm(lambda: gy.t() @ x)
print(json.dumps(out))`;

function torchRound(): Record<string, number> | null {
  try {
    return JSON.parse(execFileSync("/usr/bin/python3", ["-c", TORCH], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "2" } }));
  } catch {
    return null;
  }
}

const nr: Record<string, number>[] = [],
  tr: Record<string, number>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  nr.push(nablaRound());
  const t = torchRound();
  if (t) tr.push(t);
}
if (tr.length === 0) console.log("(PyTorch not found at /usr/bin/python3: nabla's column only)");
console.log(
  `backend ${nb.backend.getBackend().name}, 2 threads each; ms, medians of ${ROUNDS} alternating rounds; ratio = PyTorch / nabla (> 1: nabla faster)`,
);
console.log("layer                 pass          PyTorch   nabla ieee  ratio   nabla fast  ratio");
for (const key of Object.keys(nr[0]).filter((k) => k.endsWith("|ieee"))) {
  const [name, pass] = key.split("|");
  const ie = median(nr.map((r) => r[key]));
  const fastKey = `${name}|${pass}|fast`;
  const fa = fastKey in nr[0] ? median(nr.map((r) => r[fastKey])) : NaN;
  const pt = tr.length ? median(tr.map((r) => r[`${name}|${pass}`])) : NaN;
  console.log(
    `${name.padEnd(22)}${pass.padEnd(14)}${pt.toFixed(3).padStart(7)}   ${ie.toFixed(3).padStart(9)}  ${(pt / ie).toFixed(2).padStart(5)}   ` +
      `${Number.isNaN(fa) ? "        -" : fa.toFixed(3).padStart(9)}  ${Number.isNaN(fa) ? "    -" : (pt / fa).toFixed(2).padStart(5)}`,
  );
}
