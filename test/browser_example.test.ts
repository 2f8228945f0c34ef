// The browser example (examples/browser) in a real browser: Debian's chromium, headless, driven by
// playwright-core by path (nothing downloaded). Its Web Worker trains LeNet-5 for 20 steps on the js backend
// and on the wasm backend, with cross-origin isolation (threads: a pool of Web Workers on shared memory) and
// without (one thread); the losses must equal the ones this Node
// process computes with the same code on the same backend bit for bit, with no console error and no request
// outside the local server. Screenshots are written to runs/screenshots/browser-example-*.png.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type * as NB from "nabla";
import * as nb from "../src/index.js";
import { wasmBackendFromModule } from "../src/backend/wasm/index.js";
import { ROOT } from "./helpers.js";
import { launchChromium, noChromium, watchPage } from "./chromium.js";
import { trainLeNet, type Split } from "../examples/browser/train.js";

const wasmBuilt = existsSync(join(ROOT, "wasm", "nabla.wasm"));
const skip = noChromium;
const STEPS = 20;

/** The slice's training split as the worker sees it. */
function trainSplit(): Split {
  const dir = join(ROOT, "data", "fashion-mnist-slice");
  const images = nb.data.readIdx(join(dir, "train-images-idx3-ubyte.gz"), 3),
    labels = nb.data.readIdx(join(dir, "train-labels-idx1-ubyte.gz"), 1);
  return { images: images.data, labels: labels.data, n: labels.shape[0] };
}

/**
 * The example's losses in this process on `backend`; for wasm, on the module the page loads with the page's
 * thread count (weight gradients add one partial sum per thread's share).
 */
function nodeLosses(backend: string, threads: number): number[] {
  const prev = nb.backend.getBackend().name;
  if (backend === "wasm") {
    const file = join(ROOT, "wasm", threads > 1 ? "nabla-threads.wasm" : "nabla.wasm");
    const b = wasmBackendFromModule(new WebAssembly.Module(new Uint8Array(readFileSync(file))), {}, threads > 1 ? { threads } : {});
    nb.backend.registerBackend({ ...b, name: (backend = `wasm-${threads}`) });
  }
  nb.backend.setBackend(backend);
  try {
    return trainLeNet(nb as unknown as typeof NB, trainSplit(), STEPS).losses;
  } finally {
    nb.backend.setBackend(prev);
  }
}

/** Load the example on `backend`, wait for its 20 steps and check the page against this process. */
async function checkPage(runs: [string, boolean][]): Promise<void> {
  const server = (await import(join(ROOT, "scripts", "example-browser.mjs"))) as {
    buildExample(): Promise<void>;
    serveExample(port: number): Promise<{ url: string; close(): Promise<void> }>;
  };
  await server.buildExample();
  const srv = await server.serveExample(0);
  const browser = await launchChromium();
  try {
    for (const [backend, isolated] of runs) {
      const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
      const { errors, outside } = watchPage(page, srv.url);
      await page.goto(`${srv.url}?backend=${backend}&steps=${STEPS}${isolated ? "" : "&coi=0"}`);
      await page.waitForSelector("body[data-result]", { timeout: 240_000 });
      const got = JSON.parse((await page.getAttribute("body", "data-result"))!) as {
        losses: number[];
        backend: string;
        threads: number;
        isolated: boolean;
      };
      const label = `${backend}, ${isolated ? "" : "not "}cross-origin isolated`;
      assert.equal(got.backend, backend, label);
      assert.equal(got.isolated, isolated, label);
      // the wasm backend has a pool of Web Workers when the page is isolated (one per core), else one thread
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      if (backend === "wasm") assert.equal(got.threads, isolated ? cores : 1, `${label}: threads`);
      assert.deepEqual(got.losses, nodeLosses(backend, got.threads), `${label}: the page's losses are Node's`);
      assert.ok(got.losses[STEPS - 1] < got.losses[0], `${label}: the loss fell`);
      assert.equal(await page.locator("#images canvas").count(), 8, `${label}: eight test images shown`);
      assert.deepEqual(errors, [], `${label}: console errors`);
      assert.deepEqual(outside, [], `${label}: requests outside the local server`);
      mkdirSync(join(ROOT, "runs", "screenshots"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "runs", "screenshots", `browser-example-${backend}${isolated ? "" : "-coi0"}.png`) });
      await page.close();
    }
  } finally {
    await browser.close();
    await srv.close();
  }
}

test(
  "the browser example in headless Chromium, js backend: Node's losses bit for bit, clean console, local requests only",
  { skip, timeout: 300_000 },
  () => checkPage([["js", true]]),
);

test(
  "the browser example in headless Chromium, wasm backend (isolated and not): Node's wasm losses bit for bit",
  { skip: skip || (!wasmBuilt && "wasm/nabla.wasm was not built (npm run build:wasm)"), timeout: 300_000 },
  () =>
    checkPage([
      ["wasm", true],
      ["wasm", false],
    ]),
);
