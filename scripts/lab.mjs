// npm run lab: bundles the lab page (web/lab: the page and its Web Worker, with nabla's js backend) with
// esbuild into .lab-build/, and serves it locally with cross-origin-isolation headers (COOP / COEP).
// Every asset comes from this server: no CDN, no fonts from the network.
//   npm run lab [-- --port N]      (or PORT=N; default 8080; 0 picks a free port)
// Node's built-in modules are replaced by stubs that throw when used (the lab runs nothing that reads
// files), and the native addon's loader by one that reports the browser: nabla runs on its js backend.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { serveFiles } from "./serve.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, ".lab-build");

export const browserStubs = {
  name: "browser-stubs",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "node-stub" }));
    b.onLoad({ filter: /.*/, namespace: "node-stub" }, (a) => ({
      loader: "js",
      // path / url helpers work on strings (module-level constants use them); everything else throws if called
      contents:
        a.path === "node:buffer"
          ? "module.exports = { constants: { MAX_LENGTH: 2 ** 31 - 1 } };"
          : a.path === "node:path" || a.path === "node:url"
            ? `const s = (...p) => p.filter(Boolean).join("/"); module.exports = { join: s, resolve: s, dirname: (p) => String(p).replace(/\\/[^/]*$/, ""), basename: (p) => String(p).replace(/^.*\\//, ""), fileURLToPath: (u) => String(u), pathToFileURL: (p) => new URL("file://" + p) };`
            : `module.exports = new Proxy({}, { get: (_, k) => k === "__esModule" ? false : () => { throw new Error(${JSON.stringify(a.path)} + "." + String(k) + " is not available in a browser"); } });`,
    }));
    b.onLoad({ filter: /backend[\\/]native[\\/]index\.[tj]s$/ }, () => ({
      loader: "js",
      contents: `export function loadNativeBackend() { return { error: "not available in a browser (nabla runs on its js backend)" }; }`,
    }));
  },
};

/** Bundle the page and its worker into .lab-build/. */
export async function buildLab() {
  await esbuild.build({
    entryPoints: { main: join(ROOT, "web", "lab", "main.ts"), worker: join(ROOT, "web", "lab", "worker.ts") },
    outdir: OUT,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    plugins: [browserStubs],
    define: { "import.meta.url": '"file:///nabla/"' },
    logLevel: "error",
  });
}

/** Serve the built page on `port` (0: any free port); resolves to { url, close }. */
export async function serveLab(port) {
  const recordedPath = join(ROOT, "web", "lab", "recorded.json");
  const files = {
    "/": join(ROOT, "web", "lab", "index.html"),
    "/index.html": join(ROOT, "web", "lab", "index.html"),
    "/main.js": join(OUT, "main.js"),
    "/worker.js": join(OUT, "worker.js"),
  };
  for (const f of ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
    files[`/data/${f}`] = join(ROOT, "data", "fashion-mnist-slice", f);
  return serveFiles(files, port, {
    generated: (path) =>
      path === "/recorded.js"
        ? {
            type: "text/javascript; charset=utf-8",
            body: `var RECORDED = ${existsSync(recordedPath) ? readFileSync(recordedPath, "utf8") : "{}"};\n`,
          }
        : null,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--port");
  const port = Number(i > 0 ? process.argv[i + 1] : (process.env.PORT ?? 8080));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`lab: --port must be 0–65535, got ${process.argv[i + 1] ?? process.env.PORT}`);
  await buildLab();
  const { url } = await serveLab(port);
  console.log(`nabla lab: serving ${url} (Ctrl-C stops)`);
}
