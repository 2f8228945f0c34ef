// Where one training step's time goes: every backend kernel is timed, the rest is TypeScript overhead
// (graph recording, shape logic, allocation). Run: npm run build:test && node .test-build/bench/profile.js [lenet5|convnet_bn|resnet18] [infer]

import * as nb from "../src/index.js";

const kind = process.argv[2] ?? "lenet5";
const be = nb.backend.getBackend() as unknown as Record<string, unknown>;
const totals = new Map<string, { ms: number; calls: number }>();
/** Wrap every kernel of a table (the primitives' and the fused one) with a timer. */
function timeKernels(table: Record<string, unknown>, prefix: string): void {
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn !== "function") continue;
    table[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = (fn as (...a: unknown[]) => unknown)(...args);
      const e = totals.get(prefix + name) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      totals.set(prefix + name, e);
      return r;
    };
  }
}
timeKernels(be, "");
timeKernels(be.fused as Record<string, unknown>, "fused.");
nb.manualSeed(0);
const batch = kind === "convnet_bn" ? 128 : 64;
const model =
  kind === "lenet5"
    ? nb.models.lenet5()
    : kind === "convnet_bn"
      ? nb.models.convnet_bn()
      : nb.models.resnet18({ numClasses: 10, smallInput: true });
const shape = kind === "resnet18" ? [3, 32, 32] : [1, 28, 28];
const opt =
  kind === "resnet18"
    ? new nb.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
    : new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
const x = nb.randn([batch, ...shape]),
  y = nb.randint(0, 10, [batch]);
// `profile.js MODEL infer` times one inference batch (eval mode, no graph) instead of a training step
const infer = process.argv[3] === "infer";
if (infer) model.eval();
const step = infer
  ? () => {
      nb.noGrad(() => model.forward(x));
    }
  : () => {
      opt.zeroGrad();
      nb.nn.functional.crossEntropy(model.forward(x), y).backward();
      opt.step();
    };
const steps = kind === "resnet18" ? (infer ? 5 : 2) : infer ? 200 : 100;
for (let i = 0; i < (kind === "resnet18" ? 0 : 10); i++) step();
step();
totals.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const wall = (performance.now() - t0) / steps;
const rows = [...totals].map(([k, v]) => [k, v.ms / steps, v.calls / steps] as const).sort((a, b) => b[1] - a[1]);
const kernels = rows.reduce((a, r) => a + r[1], 0);
console.log(
  `${kind} batch ${batch}, backend ${nb.backend.getBackend().name}: ${wall.toFixed(2)} ms per ${infer ? "inference batch" : "training step"} (${((batch / wall) * 1000).toFixed(0)} images/s)`,
);
for (const [k, ms, calls] of rows)
  console.log(
    `  ${k.padEnd(12)} ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / wall).toFixed(1).padStart(5)}%  ${calls.toFixed(0).padStart(5)} calls`,
  );
console.log(
  `  ${"optimizer + TypeScript overhead".padEnd(12)} ${(wall - kernels).toFixed(2).padStart(8)} ms  ${((100 * (wall - kernels)) / wall).toFixed(1).padStart(5)}%`,
);
// which algorithm each convolution call took (nb.backend.convAlgorithms), one line per layer shape and pass;
// NABLA_FP32_PRECISION=fast profiles the "fast" precision
const byLayer = new Map<string, number>();
for (const r of nb.backend.convAlgorithms(step)) {
  const key = `${r.pass.padEnd(7)} ${r.input.join("×")} ⋆ ${r.weight.join("×")} stride ${r.stride[0]}: ${r.algorithm}`;
  byLayer.set(key, (byLayer.get(key) ?? 0) + 1);
}
console.log(`convolutions (fp32Precision "${nb.backend.fp32Precision}"):`);
for (const [k, n] of byLayer) console.log(`  ${k}${n > 1 ? ` (×${n})` : ""}`);
