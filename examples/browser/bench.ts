// The page's bench mode (?bench=1, run by `node .test-build/bench/native.js wasm`): float32 GEMM and LeNet-5
// b64 Adam training / inference on the current backend, timed as bench/native.ts times them in Node.

import type * as NB from "nabla";
import { batch, type Split } from "./train.js";
import { freshOutputCost, gemmRates, timeIt, timeItAsync } from "../../bench/timing.js";

/** The part of onnxruntime-web's API the bench uses (its script defines the global `ort`). */
interface OrtWeb {
  env: { wasm: { wasmPaths: string; numThreads: number } };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, o: object): Promise<{ run(feeds: Record<string, unknown>): Promise<unknown> }> };
}

/** Images/s of onnxruntime-web and of nabla's current backend on one model's inference. */
export type OrtVsNabla = { ort: number; nabla: number };

/**
 * Inference in onnxruntime-web (its wasm backend at `threads` threads, every graph optimization) on nabla's
 * ONNX export of the same seeded model, against nabla's wasm backend on the same input: LeNet-5 b64 on a
 * batch of the slice, and the small-input ResNet-18 (3×32×32, 10 classes) b16 on random input. `ort` is
 * onnxruntime-web's global, served by the example's server under /ort/; its thread count is fixed when
 * its first session is created, so a page measures one count.
 */
export async function runOrtBench(
  nb: typeof NB,
  ort: OrtWeb,
  train: Split,
  threads: number,
): Promise<Record<"lenet5" | "resnet18", OrtVsNabla>> {
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = threads;
  const one = async (model: NB.nn.Module, x: NB.Tensor, reps: number): Promise<OrtVsNabla> => {
    model.eval();
    const session = await ort.InferenceSession.create(nb.onnx.export(model, x), {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
    });
    const feeds = { input: new ort.Tensor("float32", x.data as Float32Array, [...x.shape]) };
    const tOrt = await timeItAsync(() => session.run(feeds), reps);
    const tNabla = await timeItAsync(() => nb.noGrad(() => model.forward(x)), reps);
    return { ort: x.shape[0] / tOrt, nabla: x.shape[0] / tNabla };
  };
  nb.manualSeed(0);
  const lenet5 = await one(nb.models.lenet5(), batch(nb, train, 0, 64).x, 30);
  nb.manualSeed(0);
  const resnet = nb.models.resnet18({ numClasses: 10, smallInput: true });
  const resnet18 = await one(resnet, nb.randn([16, 3, 32, 32], { generator: new nb.Generator(1) }), 7);
  return { lenet5, resnet18 };
}

/**
 * GEMM on `gemmOn`'s backends timed in turn (none: no GEMM), LeNet-5 b64 training and inference on the
 * current backend, and the cost of a fresh output array.
 */
export function runBench(
  nb: typeof NB,
  train: Split,
  gemmOn: readonly string[] | null,
): {
  gemm: ReturnType<typeof gemmRates> | null;
  train: number;
  infer: number;
  fresh: { fresh: number; reused: number };
} {
  const gemm = gemmOn ? gemmRates(nb, [256, 512, 1024], gemmOn) : null;
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
  return { gemm, train: 64 / tTrain, infer: 64 / tInfer, fresh: freshOutputCost() };
}
