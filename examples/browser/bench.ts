// The page's bench mode (?bench=1, run by `node .test-build/bench/native.js wasm`): float32 GEMM and LeNet-5
// b64 Adam training / inference on the current backend, timed as bench/native.ts times them in Node.

import type * as NB from "nabla";
import { batch, type Split } from "./train.js";
import { timeGemm, timeIt, timeItAsync } from "../../bench/timing.js";

/** The part of onnxruntime-web's API the bench uses (its script defines the global `ort`). */
interface OrtWeb {
  env: { wasm: { wasmPaths: string; numThreads: number } };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, o: object): Promise<{ run(feeds: Record<string, unknown>): Promise<unknown> }> };
}

/**
 * LeNet-5 b64 inference in onnxruntime-web (its wasm backend, one thread, every graph optimization) on
 * nabla's ONNX export of the same model, against nabla's wasm backend on the same input: images/s each.
 * `ort` is onnxruntime-web's global, served by the example's server under /ort/.
 */
export async function runOrtBench(nb: typeof NB, ort: OrtWeb, train: Split): Promise<{ ort: number; nabla: number }> {
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = 1;
  nb.manualSeed(0);
  const model = nb.models.lenet5();
  model.eval();
  const { x } = batch(nb, train, 0, 64);
  const session = await ort.InferenceSession.create(nb.onnx.export(model, x), {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const feeds = { input: new ort.Tensor("float32", x.data as Float32Array, [...x.shape]) };
  const tOrt = await timeItAsync(() => session.run(feeds), 30);
  const tNabla = await timeItAsync(() => nb.noGrad(() => model.forward(x)), 30);
  return { ort: 64 / tOrt, nabla: 64 / tNabla };
}

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
