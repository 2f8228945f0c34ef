// The page's bench mode (?bench=1, run by `node .test-build/bench/native.js wasm`): float32 GEMM and LeNet-5
// b64 Adam training / inference on the current backend, timed as bench/native.ts times them in Node.

import type * as NB from "nabla";
import { batch, type Split } from "./train.js";
import { timeGemm, timeIt } from "../../bench/timing.js";

export function runBench(nb: typeof NB, train: Split): { gemm: Record<number, number>; train: number; infer: number } {
  const gemm: Record<number, number> = {};
  for (const n of [256, 512, 1024]) {
    const a = nb.randn([n, n]),
      b = nb.randn([n, n]);
    gemm[n] = (2 * n ** 3) / timeGemm(() => nb.matmul(a, b)) / 1e9;
  }
  nb.manualSeed(0);
  const model = nb.models.lenet5();
  const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
  const { x, y } = batch(nb, train, 0, 64);
  model.train();
  const tTrain = timeIt(() => {
    opt.zeroGrad();
    nb.nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
  }, 30);
  model.eval();
  const tInfer = timeIt(() => nb.noGrad(() => model.forward(x)), 30);
  return { gemm, train: 64 / tTrain, infer: 64 / tInfer };
}
