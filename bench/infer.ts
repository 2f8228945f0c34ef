// One inference timing in its own process (threads are fixed when a runtime loads), for npm run bench:
//   node .test-build/bench/infer.js nabla|ort MODEL BATCH THREADS  → prints {"imagesPerSecond": …}
// nabla takes its threads from NABLA_NUM_THREADS (set by the caller); onnxruntime-node runs nabla's ONNX
// export of the same seeded model with intraOpNumThreads = THREADS and every graph optimization.

import * as nb from "../src/index.js";
import { benchModel } from "./models.js";
import { timeItAsync } from "./timing.js";

const [engine, kind, batchText, threadsText] = process.argv.slice(2);
const batch = Number(batchText),
  threads = Number(threadsText);

const { model, shape } = benchModel(kind);
const x = nb.randn([batch, ...shape]);
model.eval();
const reps = kind === "resnet18" ? 7 : 30;
let seconds: number;
if (engine === "nabla") {
  seconds = await timeItAsync(() => nb.noGrad(() => model.forward(x)), reps);
} else {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(nb.onnx.export(model, x), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const feeds = { input: new ort.Tensor("float32", x.data as Float32Array, x.shape) };
  seconds = await timeItAsync(() => session.run(feeds), reps);
}
console.log(JSON.stringify({ imagesPerSecond: batch / seconds }));
