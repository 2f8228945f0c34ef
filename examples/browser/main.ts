// The example page: starts the worker on the backend named in the URL (?backend=js|wasm&steps=N), shows
// the loss as it falls, then the test accuracy and eight test images with the model's predictions.
// ?bench=1 times GEMM, LeNet-5 and ResNet-18 instead (bench.ts); ?threads=N sets the wasm backend's threads.

const CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"];
const q = new URLSearchParams(location.search);
const backend = q.get("backend") === "js" ? "js" : "wasm";
const steps = Number(q.get("steps") ?? 200);
const $ = (id: string) => document.getElementById(id)!;
$("setup").textContent = `LeNet-5 on the Fashion-MNIST slice, ${steps} Adam steps of 64 images, ${backend} backend, ${
  crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated"
}`;
const losses: number[] = [];

function plot() {
  const svg = $("curve");
  const max = Math.max(...losses),
    w = 400,
    h = 120;
  const pts = losses.map((l, i) => `${((i / Math.max(1, steps - 1)) * w).toFixed(1)},${(h - (l / max) * h).toFixed(1)}`).join(" ");
  svg.innerHTML = `<polyline fill="none" stroke="#2a6" stroke-width="2" points="${pts}"/>`;
}

const worker = new Worker("./worker.js");
worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === "step") {
    losses.push(m.loss);
    $("status").textContent = `step ${m.step + 1} / ${steps}: loss ${m.loss.toFixed(4)}`;
    plot();
  } else if (m.type === "bench") {
    $("status").textContent = `bench: ${JSON.stringify(m)}`;
    document.body.dataset.bench = JSON.stringify(m);
  } else if (m.type === "error") {
    $("status").textContent = `error: ${m.message}`;
    console.error(m.message);
  } else {
    $("status").textContent =
      `done: ${steps} steps at ${m.imagesPerSecond.toFixed(0)} images/s (${m.backend} ${JSON.stringify(m.info)}); test accuracy ${(100 * m.accuracy).toFixed(1)} %`;
    const grid = $("images");
    for (let k = 0; k < 8; k++) {
      const c = document.createElement("canvas");
      c.width = c.height = 28;
      const ctx = c.getContext("2d")!,
        img = ctx.createImageData(28, 28);
      for (let i = 0; i < 784; i++) img.data.set([m.shown[k * 784 + i], m.shown[k * 784 + i], m.shown[k * 784 + i], 255], 4 * i);
      ctx.putImageData(img, 0, 0);
      const fig = document.createElement("figure");
      const ok = m.predictions[k] === m.shownLabels[k];
      fig.innerHTML = `<figcaption class="${ok ? "ok" : "bad"}">${CLASSES[m.predictions[k]]}</figcaption>`;
      fig.prepend(c);
      grid.append(fig);
    }
    document.body.dataset.result = JSON.stringify({
      losses: m.losses,
      accuracy: m.accuracy,
      backend: m.backend,
      threads: m.info.threads ?? 1,
      isolated: crossOriginIsolated,
    });
  }
};
// ?threads=N: the wasm backend's threads (more than one only when the page is cross-origin isolated)
const threads = q.has("threads") ? Number(q.get("threads")) : undefined;
worker.postMessage({ backend, steps, threads, bench: q.get("bench") === "1" });
