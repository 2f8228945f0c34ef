// The example's Web Worker: fetches the shipped Fashion-MNIST slice (inflated here), loads the wasm module
// when asked, trains LeNet-5 and posts each step's loss, then the test accuracy and a few predictions.

import * as nb from "nabla";
import { evaluate, trainLeNet, type Split } from "./train.js";
import { runBench, runOrtBench } from "./bench.js";

async function idx(name: string): Promise<Uint8Array> {
  const res = await fetch(`./data/${name}.gz`);
  if (!res.ok) throw new Error(`./data/${name}.gz: HTTP ${res.status}`);
  return new Uint8Array(await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
}

async function split(prefix: string): Promise<Split> {
  const [img, lab] = await Promise.all([idx(`${prefix}-images-idx3-ubyte`), idx(`${prefix}-labels-idx1-ubyte`)]);
  const images = nb.data.parseIdx(img, `${prefix} images`, 3),
    labels = nb.data.parseIdx(lab, `${prefix} labels`, 1);
  return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, n: labels.shape[0] };
}

self.onmessage = async (e: MessageEvent<{ backend: "js" | "wasm"; steps: number; threads?: number; bench: boolean }>) => {
  try {
    const { backend, steps } = e.data;
    // threads (one per core unless asked) where the page is cross-origin isolated (shared memory), else one
    const threads = crossOriginIsolated ? (e.data.threads ?? navigator.hardwareConcurrency) : 1;
    // the bench's 2-thread run also loads the 1-thread module, as "wasm-1", to time GEMM on both in turn
    const pairGemm = e.data.bench && backend === "wasm" && threads > 1;
    if (pairGemm) nb.backend.registerBackend({ ...(await nb.backend.loadWasm("./nabla.wasm", {})), name: "wasm-1" });
    if (backend === "wasm")
      await nb.backend.loadWasm(threads > 1 ? "./nabla-threads.wasm" : "./nabla.wasm", threads > 1 ? { threads } : {});
    nb.backend.setBackend(backend);
    const [train, test] = await Promise.all([split("train"), split("t10k")]);
    if (e.data.bench) {
      const r = runBench(nb, train, pairGemm ? ["wasm-1", "wasm"] : null);
      // onnxruntime-web, when the server has it (npm devDependency): a classic script defining `ort`
      let ort: Awaited<ReturnType<typeof runOrtBench>> | null = null;
      if ((await fetch("/ort/ort.wasm.min.js", { method: "HEAD" })).ok) {
        (self as unknown as { importScripts(url: string): void }).importScripts("/ort/ort.wasm.min.js");
        ort = await runOrtBench(nb, (self as unknown as { ort: Parameters<typeof runOrtBench>[1] }).ort, train, threads);
      }
      self.postMessage({ type: "bench", ...r, threads: nb.backend.getBackend().info?.threads ?? 1, ort });
      return;
    }
    const t0 = performance.now();
    const { model, losses } = trainLeNet(nb, train, steps, (step, loss) => self.postMessage({ type: "step", step, loss }));
    const seconds = (performance.now() - t0) / 1000;
    const { accuracy, predictions } = evaluate(nb, model, test, 8);
    self.postMessage({
      type: "done",
      backend: nb.backend.getBackend().name,
      info: nb.backend.getBackend().info ?? {},
      losses,
      imagesPerSecond: (steps * 64) / seconds,
      accuracy,
      predictions,
      shown: Array.from(test.images.subarray(0, 8 * 784)),
      shownLabels: Array.from(test.labels.subarray(0, 8)),
    });
  } catch (err) {
    self.postMessage({ type: "error", message: String((err as Error).stack ?? err) });
  }
};
