// A DataLoader worker thread: rebuilds the dataset once (from its spec, or by importing the module the
// loader names), then assembles the batches it is asked for, each with its own seeded generator, and
// posts them back with their storage transferred (no copy).

import { parentPort, workerData } from "node:worker_threads";
import "../index.js"; // the backends, as in the main thread
import { Generator } from "../tensor/random.js";
import { datasetFromSpec, defaultCollate, type Dataset, type DatasetSpec } from "./dataset.js";
import type { TypedArray } from "../tensor/dtype.js";

export interface WorkerInit {
  spec: DatasetSpec | null;
  module: { url: string; export: string; args: unknown[] } | null;
}
export interface BatchRequest {
  id: number;
  indices: Int32Array;
  seed: number;
}

async function build(init: WorkerInit): Promise<Dataset> {
  if (init.spec) return datasetFromSpec(init.spec);
  const m = init.module!;
  const factory = (await import(m.url))[m.export];
  if (typeof factory !== "function") throw new TypeError(`DataLoader worker: ${m.url} has no function export '${m.export}'`);
  return await factory(...m.args);
}

const ready = build(workerData as WorkerInit);
parentPort!.on("message", async (req: BatchRequest) => {
  try {
    const ds = await ready;
    const g = new Generator(req.seed);
    const b = ds.getBatch ? ds.getBatch(req.indices, g) : defaultCollate(Array.from(req.indices, (i) => ds.get(i, g)));
    const x = own(b.x.data),
      y = own(b.y.data);
    parentPort!.postMessage({ id: req.id, x: { data: x, shape: [...b.x.shape] }, y: { data: y, shape: [...b.y.shape] } }, [x.buffer, y.buffer] as ArrayBuffer[]);
  } catch (e) {
    parentPort!.postMessage({ id: req.id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});


/** The array itself when it owns its whole (non-shared) buffer, so it can be transferred; else a copy. */
function own(a: TypedArray): TypedArray {
  return a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
}
