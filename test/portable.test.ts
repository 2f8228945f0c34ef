// The portable core: "nabla" bundled for a browser (esbuild, platform browser, no plugins) takes the
// package's browser entry, pulls in no Node built-in and none of the Node-only loaders, and the bundle runs in a context with no `process`, `Buffer` or `require`: the js backend,
// training steps, safetensors and checkpoints from bytes, and a clear error where a file path needs Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runInNewContext } from "node:vm";
import * as esbuild from "esbuild";
import { ROOT } from "./helpers.js";

test('a browser bundle of "nabla" has no Node built-in and runs without process, Buffer or require', async () => {
  const r = await esbuild.build({
    stdin: { contents: 'import * as nb from "nabla"; globalThis.nb = nb;', resolveDir: ROOT, loader: "js" },
    bundle: true,
    platform: "browser",
    format: "iife",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.deepEqual(
    inputs.filter((p) => p.startsWith("node:") || p.includes("(disabled)")),
    [],
  );
  assert.ok(
    inputs.some((p) => p.endsWith("dist/browser.js")) && !inputs.some((p) => p.endsWith("dist/index.js")),
    "the bundle is the package's browser entry",
  );
  assert.deepEqual(
    inputs.filter((p) => /dist\/backend\/native\/|dist\/backend\/wasm\/node\.js/.test(p)),
    [],
    "the Node-only loaders are not bundled",
  );
  const code = r.outputFiles[0].text;
  assert.doesNotMatch(code, /(?:require\(|from\s|import\()\s*["']node:/);
  const sandbox: Record<string, unknown> = { console, WebAssembly, performance, TextDecoder, TextEncoder, URL };
  sandbox.globalThis = sandbox;
  runInNewContext(code, sandbox);
  // the checks run inside the bundle's context (its own Object, Array …: options made here would be foreign)
  const out = runInNewContext(
    `(() => {
      const backend = nb.backend.getBackend();
      nb.manualSeed(0);
      const model = new nb.nn.Sequential(new nb.nn.Linear(4, 8), new nb.nn.ReLU(), new nb.nn.Linear(8, 1));
      const opt = new nb.optim.Adam(model.parameters(), { lr: 0.05 });
      const x = nb.randn([32, 4]), y = nb.sum(x, 1, { keepdim: true });
      const losses = [];
      for (let i = 0; i < 30; i++) {
        opt.zeroGrad();
        const loss = nb.nn.functional.mseLoss(model.forward(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      const back = nb.io.loadSafetensors(nb.io.serializeSafetensors(model.stateDict()));
      // a checkpoint as bytes, restored into a fresh model and optimizer
      const ckpt = nb.train.serializeCheckpoint({ model, optimizer: opt, epoch: 3 });
      const model2 = new nb.nn.Sequential(new nb.nn.Linear(4, 8), new nb.nn.ReLU(), new nb.nn.Linear(8, 1));
      const opt2 = new nb.optim.Adam(model2.parameters(), { lr: 0.05 });
      const restored = nb.train.loadCheckpoint(ckpt, { model: model2, optimizer: opt2 });
      const same = nb.nn.functional.mseLoss(model2.forward(x), y).item() === nb.nn.functional.mseLoss(model.forward(x), y).item();
      let pathError = "";
      try { nb.data.readIdx("/tmp/x-idx3-ubyte"); } catch (e) { pathError = e.message; }
      return JSON.stringify({ name: backend.name, native: backend.info.native, losses, keys: Object.keys(back).sort(),
        want: Object.keys(model.stateDict()).sort(), pathError, epoch: restored.epoch, same });
    })()`,
    sandbox,
  );
  const r2 = JSON.parse(out) as {
    name: string;
    native: string;
    losses: number[];
    keys: string[];
    want: string[];
    pathError: string;
    epoch: number;
    same: boolean;
  };
  assert.equal(r2.name, "js");
  assert.match(r2.native, /not in the browser build/);
  assert.ok(r2.losses[29] < r2.losses[0] / 2, `the loss fell: ${r2.losses[0]} → ${r2.losses[29]}`);
  assert.deepEqual(r2.keys, r2.want, "weights round-trip through safetensors bytes");
  assert.equal(r2.epoch, 3, "a checkpoint round-trips through bytes");
  assert.ok(r2.same, "the restored model gives the same loss");
  assert.match(r2.pathError, /needs Node's node:fs \(outside Node, pass the bytes/);
  // a page that is not cross-origin isolated has no shared memory: asking for threads is an error that
  // says why, not one thread in silence
  sandbox.crossOriginIsolated = false;
  const threads = (await runInNewContext(
    `nb.backend.loadWasm(undefined, { threads: 2 }).then(() => "loaded", (e) => e.message)`,
    sandbox,
  )) as string;
  assert.match(
    threads,
    /^nabla wasm: threads: 2 needs shared memory, but the page is not cross-origin isolated \(COOP same-origin and COEP require-corp\)/,
  );
});
