// npm run example:browser: bundles examples/browser (the page and its Web Worker, importing "nabla" as a
// user's code does) with esbuild into .example-build/ and serves it, the wasm module and the shipped
// Fashion-MNIST slice from a local server (no network) with COOP / COEP headers, so the page is
// cross-origin isolated; a page URL with ?coi=0 is served without them.
//   npm run example:browser [-- --port N]   (default 8081; 0 picks a free port)
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { serveFiles } from "./serve.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, ".example-build");
const EXAMPLE = join(ROOT, "examples", "browser");

/** Bundle the page and its worker into .example-build/ (nabla imports no Node built-in: no stubs needed). */
export async function buildExample() {
  await esbuild.build({
    entryPoints: { main: join(EXAMPLE, "main.ts"), worker: join(EXAMPLE, "worker.ts") },
    outdir: OUT,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    logLevel: "error",
  });
}

/** Serve the built example on `port` (0: any free port); resolves to { url, close }. */
export async function serveExample(port) {
  const files = {
    "/": join(EXAMPLE, "index.html"),
    "/index.html": join(EXAMPLE, "index.html"),
    "/main.js": join(OUT, "main.js"),
    "/worker.js": join(OUT, "worker.js"),
    "/nabla.wasm": join(ROOT, "wasm", "nabla.wasm"),
    "/nabla-threads.wasm": join(ROOT, "wasm", "nabla-threads.wasm"),
  };
  // onnxruntime-web (a devDependency) for the bench mode's inference comparison
  const ort = join(ROOT, "node_modules", "onnxruntime-web", "dist");
  for (const f of ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]) files[`/ort/${f}`] = join(ort, f);
  for (const split of ["train", "t10k"])
    for (const kind of ["images-idx3", "labels-idx1"])
      files[`/data/${split}-${kind}-ubyte.gz`] = join(ROOT, "data", "fashion-mnist-slice", `${split}-${kind}-ubyte.gz`);
  // the document decides isolation (its subresources are same-origin either way)
  return serveFiles(files, port, { isolate: (url) => url.searchParams.get("coi") !== "0" });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--port");
  const port = Number(i > 0 ? process.argv[i + 1] : (process.env.PORT ?? 8081));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`example:browser: --port must be 0–65535`);
  if (!existsSync(join(ROOT, "wasm", "nabla.wasm")))
    console.log("wasm/nabla.wasm is not built (npm run build:wasm): only ?backend=js will run");
  await buildExample();
  const { url } = await serveExample(port);
  console.log(`nabla browser example: ${url} (wasm backend), ${url}?backend=js, ${url}?coi=0 (not isolated); Ctrl-C stops`);
}
