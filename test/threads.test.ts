// Native kernels called from several JS threads at once (worker_threads): every result must equal the
// single-threaded one. The pool runs one caller's tasks at a time; a second caller runs its tasks on its own
// thread (native/kernels/threads.cc). On the js backend there is nothing shared, and the test is skipped.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as nb from "../src/index.js";
import { ROOT } from "./helpers.js";

const entry = pathToFileURL(join(ROOT, ".test-build", "src", "index.js")).href;
const native = nb.backend.getBackend().name === "native";

/** The workload, as a module body run in the main thread and in each worker: matmul, conv2d forward
 * (Winograd-sized) and both of its gradients, from seeded inputs; returns the flat results. */
const WORKLOAD = `
export function workload(nb) {
  const g = new nb.Generator(7);
  const a = nb.randn([128, 256], { generator: g }), b = nb.randn([256, 192], { generator: g });
  const x = nb.randn([8, 16, 16, 16], { generator: g }).requiresGrad_(), w = nb.randn([32, 16, 3, 3], { generator: g }).requiresGrad_();
  const y = nb.nn.functional.conv2d(x, w, { padding: 1 });
  y.mul(y).sum().backward();
  return [nb.matmul(a, b), y, x.grad, w.grad].map((t) => Float32Array.from(t.data));
}`;

test(
  "native kernels from 4 worker threads at once equal the single-threaded results",
  { skip: !native && "needs the native backend" },
  async () => {
    const { workload } = (await import(`data:text/javascript,${encodeURIComponent(WORKLOAD)}`)) as {
      workload: (m: typeof nb) => Float32Array[];
    };
    const reference = workload(nb);
    const source = `
    import { parentPort, workerData } from "node:worker_threads";
    const nb = await import(workerData.entry);
    const { workload } = await import("data:text/javascript," + encodeURIComponent(workerData.workload));
    let wrong = 0, compared = 0;
    for (let it = 0; it < workerData.iterations; it++) {
      const got = workload(nb);
      got.forEach((arr, k) => {
        const ref = workerData.reference[k];
        for (let i = 0; i < ref.length; i++) { compared++; if (!(arr[i] === ref[i])) wrong++; }
      });
    }
    parentPort.postMessage({ wrong, compared, backend: nb.backend.getBackend().name });`;
    const runs = Array.from(
      { length: 4 },
      () =>
        new Promise<{ wrong: number; compared: number; backend: string }>((resolve, reject) => {
          const wk = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
            workerData: { entry, workload: WORKLOAD, reference, iterations: 15 },
          });
          wk.once("message", resolve);
          wk.once("error", reject);
          wk.once("exit", (code) => {
            if (code !== 0) reject(new Error(`worker exited with code ${code}`));
          });
        }),
    );
    const results = await Promise.all(runs);
    for (const r of results) {
      assert.equal(r.backend, "native");
      assert.ok(r.compared > 0);
      assert.equal(r.wrong, 0, `${r.wrong} of ${r.compared} elements differ from the single-threaded results`);
    }
  },
);
