// The float32 error of the convolution algorithms on ResNet-18's 3×3 stride-1 layer shapes (small input):
// nabla's "ieee" (Winograd F(2×2, 3×3)) and "fast" (F(4×4, 3×3)) precision beside PyTorch's float32
// convolution (Debian's python3-torch, if present), each against a float64 computation of the same data.
// Error = max |float32 − float64| / max |float64| over each output (forward, input gradient, weight gradient);
// inputs standard normal, weights N(0, 1/(9·C)), output gradients standard normal. Medians over 3 seeds.
// Run: npm run build:test && node .test-build/bench/precision.js

import { execFileSync } from "node:child_process";
import * as nb from "../src/index.js";

const F = nb.nn.functional;
// [channels, map]; the batch is large enough for "fast" to take F(4×4) (≥ 512 4×4 tiles), so each row
// measures the algorithm its mode names
const LAYERS: [number, number][] = [
  [64, 32],
  [128, 16],
  [256, 8],
  [512, 4],
];
const batchFor = (map: number) => Math.max(8, Math.ceil(512 / Math.ceil(map / 4) ** 2));
const SEEDS = [0, 1, 2];
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

function relErr(a: nb.Tensor, ref: nb.Tensor): number {
  const d = a.data,
    r = ref.data;
  let e = 0,
    m = 0;
  for (let i = 0; i < r.length; i++) {
    e = Math.max(e, Math.abs(d[i] - r[i]));
    m = Math.max(m, Math.abs(r[i]));
  }
  return e / m;
}

function passes(x: nb.Tensor, w: nb.Tensor, gy: nb.Tensor) {
  const xs = x.detach().requiresGrad_(),
    ws = w.detach().requiresGrad_();
  let y: nb.Tensor | null = null;
  const log = nb.backend.convAlgorithms(() => {
    y = F.conv2d(xs, ws, null, 1, 1);
    nb.sum(nb.mul(y, gy)).backward();
  });
  return { out: [y! as nb.Tensor, xs.grad!, ws.grad!], algos: [...new Set(log.map((r) => r.algorithm))].join("/") };
}

const TORCH = `
import torch, json, sys
torch.set_num_threads(2)
out = {}
for c, m in ${JSON.stringify(LAYERS)}:
    n = max(8, -(-512 // (-(-m // 4)) ** 2))
    errs = []
    for seed in ${JSON.stringify(SEEDS)}:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(n, c, m, m, generator=g); w = torch.randn(c, c, 3, 3, generator=g) / (9 * c) ** 0.5
        gy = torch.randn(n, c, m, m, generator=g)
        def run(dt):
            xs = x.to(dt).detach().clone().requires_grad_(); ws = w.to(dt).detach().clone().requires_grad_()
            y = torch.nn.functional.conv2d(xs, ws, None, 1, 1); (y * gy.to(dt)).sum().backward()
            return [y.detach(), xs.grad, ws.grad]
        a, r = run(torch.float32), run(torch.float64)
        errs.append([((p.double() - q).abs().max() / q.abs().max()).item() for p, q in zip(a, r)])
    out[f"{c}/{m}"] = [sorted(e[i] for e in errs)[len(errs) // 2] for i in range(3)]
print(json.dumps(out))`;

let torch: Record<string, number[]> | null = null;
try {
  torch = JSON.parse(execFileSync("/usr/bin/python3", ["-c", TORCH], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
} catch {
  console.log("(PyTorch not found at /usr/bin/python3: its column is left out)");
}

console.log(`backend ${nb.backend.getBackend().name}; error = max |float32 − float64| / max |float64|, median of ${SEEDS.length} seeds`);
console.log(
  "layer (C→C, map, batch)   pass          nabla ieee (algorithm)      nabla fast (algorithm)      PyTorch float32   fast/PyTorch",
);
const saved = nb.backend.fp32Precision;
let worst = 0;
for (const [c, m] of LAYERS) {
  const n = batchFor(m);
  const rows: { ieee: number[]; fast: number[]; algo: Record<string, string> }[] = [];
  for (const seed of SEEDS) {
    const g = new nb.Generator(seed);
    const x = nb.randn([n, c, m, m], { generator: g });
    const w = nb.mul(nb.randn([c, c, 3, 3], { generator: g }), 1 / Math.sqrt(9 * c));
    const gy = nb.randn([n, c, m, m], { generator: g });
    const ref = passes(x.to("float64"), w.to("float64"), gy.to("float64")).out;
    const errs: Record<string, number[]> = {};
    const algo: Record<string, string> = {};
    for (const mode of ["ieee", "fast"] as const) {
      nb.backend.fp32Precision = mode;
      const r = passes(x, w, gy);
      errs[mode] = r.out.map((t, i) => relErr(t, ref[i]));
      algo[mode] = r.algos;
    }
    rows.push({ ieee: errs.ieee, fast: errs.fast, algo });
  }
  nb.backend.fp32Precision = saved;
  ["forward", "input grad", "weight grad"].forEach((pass, i) => {
    const ie = median(rows.map((r) => r.ieee[i])),
      fa = median(rows.map((r) => r.fast[i]));
    worst = Math.max(worst, ...rows.map((r) => r.fast[i]));
    const pt = torch ? torch[`${c}/${m}`][i] : NaN;
    console.log(
      `${`${c}→${c}, ${m}×${m}, b${n}`.padEnd(26)}${pass.padEnd(14)}${`${ie.toExponential(2)} (${rows[0].algo.ieee})`.padEnd(28)}` +
        `${`${fa.toExponential(2)} (${rows[0].algo.fast})`.padEnd(28)}${(torch ? pt.toExponential(2) : "-").padEnd(18)}${torch ? (fa / pt).toFixed(1) : "-"}`,
    );
  });
}
console.log(`largest "fast" error over every seed and pass: ${worst.toExponential(2)} (the documented bound is 1e-5)`);
