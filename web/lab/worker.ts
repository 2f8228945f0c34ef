// The lab page's Web Worker: runs one experiment at a time with nb's js backend and streams its metrics
// to the page at most every 16 ms, then the result.

import * as lab from "../../src/lab/index.js";

interface RunRequest {
  id: string;
  params: Record<string, unknown>;
  seed: number;
}

self.onmessage = (ev: MessageEvent<RunRequest>) => {
  const { id, params, seed } = ev.data;
  let buffer: lab.Metric[] = [];
  let last = performance.now();
  const flush = () => {
    if (buffer.length) (self as unknown as Worker).postMessage({ type: "metrics", id, metrics: buffer });
    buffer = [];
    last = performance.now();
  };
  try {
    const t0 = performance.now();
    const result = lab.runExperiment(id, params, seed, (m) => {
      buffer.push(m);
      if (performance.now() - last > 16) flush();
    });
    flush();
    (self as unknown as Worker).postMessage({ type: "done", id, result, seconds: (performance.now() - t0) / 1000 });
  } catch (e) {
    (self as unknown as Worker).postMessage({ type: "error", id, message: (e as Error).message });
  }
};
