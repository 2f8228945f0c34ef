// Foundation benchmark: js-backend GEMM GFLOP/s (vs a naive triple loop, and PyTorch when present)
// and one conv2d forward+backward on [64, 32, 28, 28] with 64 3x3 filters. Prints medians.
// Run: npm run bench:foundation

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as nb from "../src/index.js";
import { medianTime } from "./timing.js";

function time(fn: () => void, reps: number): number {
  fn(); // warm-up (JIT)
  return medianTime(fn, reps);
}

function naiveMatmul(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
}

const PY = "/usr/bin/python3";
function torchTimes(): Record<string, number> | null {
  if (!existsSync(PY)) return null;
  const script = `
import time, json, torch
torch.set_num_threads(1)
def med(f, reps):
    f(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts)//2]
out = {}
for n in (256, 1024):
    a, b = torch.randn(n, n), torch.randn(n, n)
    out["gemm%d" % n] = med(lambda: a @ b, 9 if n == 256 else 5)
x = torch.randn(64, 32, 28, 28, requires_grad=True); w = torch.randn(64, 32, 3, 3, requires_grad=True)
def step():
    y = torch.nn.functional.conv2d(x, w, padding=1); y.sum().backward()
out["conv"] = med(step, 5)
print(json.dumps(out))`;
  try {
    return JSON.parse(execFileSync(PY, ["-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  } catch {
    return null;
  }
}

const rows: string[] = [];
const gflops = (n: number, s: number) => (2 * n ** 3) / s / 1e9;
const torch = torchTimes();
if (!torch) console.log("(PyTorch not found at /usr/bin/python3: apt-get install python3-torch for the side-by-side column)");

for (const n of [256, 1024]) {
  const a = nb.randn([n, n]),
    b = nb.randn([n, n]);
  const s = time(() => nb.matmul(a, b), n === 256 ? 9 : 3);
  let line = `gemm ${n}x${n}x${n} float32: nabla ${nb.backend.getBackend().name} ${gflops(n, s).toFixed(2)} GFLOP/s (${(s * 1e3).toFixed(1)} ms)`;
  if (n === 256) {
    const c = new Float32Array(n * n);
    const sn = time(() => naiveMatmul(a.data as Float32Array, b.data as Float32Array, c, n), 3);
    line += `; naive triple loop ${gflops(n, sn).toFixed(2)} GFLOP/s (blocked/naive = ${(sn / s).toFixed(2)}x)`;
  }
  if (torch)
    line += `; PyTorch 1 thread ${gflops(n, torch[`gemm${n}`]).toFixed(1)} GFLOP/s (nabla/PyTorch = ${(torch[`gemm${n}`] / s).toFixed(3)})`;
  rows.push(line);
}

{
  const x = nb.randn([64, 32, 28, 28], { requiresGrad: true });
  const w = nb.randn([64, 32, 3, 3], { requiresGrad: true });
  const s = time(() => {
    x.grad = null;
    w.grad = null;
    nb.nn.functional.conv2d(x, w, { padding: 1 }).sum().backward();
  }, 3);
  let line = `conv2d [64,32,28,28] * [64,32,3,3] pad 1, forward+backward: nabla ${nb.backend.getBackend().name} ${(s * 1e3).toFixed(0)} ms`;
  if (torch) line += `; PyTorch 1 thread ${(torch.conv * 1e3).toFixed(0)} ms (nabla/PyTorch time = ${(s / torch.conv).toFixed(1)}x)`;
  rows.push(line);
}
console.log(rows.join("\n"));
