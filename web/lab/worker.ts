// The lab page's Web Worker: runs one experiment at a time with nb's js backend and streams its metrics
// to the page at most every 16 ms, then the result.

import * as lab from "../../src/lab/index.js";
import { parseIdx } from "../../src/data/readers.js";

/** The shipped Fashion-MNIST slice's training split, fetched from the lab's server once and inflated here. */
let fashion: Promise<lab.LabData["fashionTrain"]> | null = null;
async function idx(name: string, dims: number) {
  const res = await fetch(`./data/${name}.gz`);
  if (!res.ok) throw new Error(`lab: ./data/${name}.gz: HTTP ${res.status}`);
  const inflated = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  return parseIdx(new Uint8Array(inflated), name, dims);
}
function fashionTrain() {
  fashion ??= Promise.all([idx("train-images-idx3-ubyte", 3), idx("train-labels-idx1-ubyte", 1)]).then(([img, lab_]) => ({
    images: img.data,
    labels: lab_.data,
    count: img.shape[0],
  }));
  return fashion;
}

interface RunRequest {
  id: string;
  params: Record<string, unknown>;
  seed: number;
}

self.onmessage = async (ev: MessageEvent<RunRequest>) => {
  const { id, params, seed } = ev.data;
  let buffer: lab.Metric[] = [];
  let last = performance.now();
  const flush = () => {
    if (buffer.length) (self as unknown as Worker).postMessage({ type: "metrics", id, metrics: buffer });
    buffer = [];
    last = performance.now();
  };
  try {
    const data: lab.LabData = id === "depth" ? { fashionTrain: await fashionTrain() } : {};
    const t0 = performance.now();
    const result = lab.runExperiment(
      id,
      params,
      seed,
      (m) => {
        buffer.push(m);
        if (performance.now() - last > 16) flush();
      },
      data,
    );
    flush();
    (self as unknown as Worker).postMessage({ type: "done", id, result, seconds: (performance.now() - t0) / 1000 });
  } catch (e) {
    (self as unknown as Worker).postMessage({ type: "error", id, message: (e as Error).message });
  }
};
