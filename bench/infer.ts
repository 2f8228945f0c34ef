// One inference timing in its own process (threads are fixed when a runtime loads), for npm run bench:
//   node .test-build/bench/infer.js nabla|ort MODEL BATCH THREADS  → prints {"imagesPerSecond": …}
// nabla takes its threads from NABLA_NUM_THREADS (set by the caller); onnxruntime-node runs nabla's ONNX
// export of the same seeded model with intraOpNumThreads = THREADS and every graph optimization.

import * as nb from "../src/index.js";
import { benchModel } from "./models.js";

const [engine, kind, batchText, threadsText] = process.argv.slice(2);
const batch = Number(batchText),
  threads = Number(threadsText);

/** The rule bench/native.ts uses: ≥ 2 calls and 0.5 s of warm-up, then the median of `reps` calls. */
async function timeIt(fn: () => unknown, reps: number): Promise<number> {
  for (let i = 0, t0 = performance.now(); i < 2 || performance.now() - t0 < 500; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
}

const { model, shape } = benchModel(kind);
const x = nb.randn([batch, ...shape]);
model.eval();
const reps = kind === "resnet18" ? 7 : 30;
let seconds: number;
if (engine === "nabla") {
  seconds = await timeIt(() => nb.noGrad(() => model.forward(x)), reps);
} else {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(nb.onnx.export(model, x), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const feeds = { input: new ort.Tensor("float32", x.data as Float32Array, x.shape) };
  seconds = await timeIt(() => session.run(feeds), reps);
}
console.log(JSON.stringify({ imagesPerSecond: batch / seconds }));
