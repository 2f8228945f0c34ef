// The local server of the lab page and the browser example: a fixed table of files (path → file on disk),
// with the cross-origin-isolation headers (COOP / COEP) unless `isolate(url)` says no for a request, and
// optional generated responses. Listens on 127.0.0.1 only; nothing comes from the network.
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { extname } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".gz": "application/octet-stream",
};

/**
 * Serve `files` on `port` (0: any free port); `generated(path)` may answer a path with { type, body }.
 * Resolves to { url, close }.
 */
export async function serveFiles(files, port, { isolate = () => true, generated = () => null } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const headers = {
      ...(isolate(url) ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } : {}),
      "Cache-Control": "no-store",
    };
    if (url.pathname === "/favicon.ico") {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    const made = generated(url.pathname);
    if (made) {
      res.writeHead(200, { ...headers, "Content-Type": made.type });
      res.end(made.body);
      return;
    }
    const file = files[url.pathname];
    if (!file || !existsSync(file)) {
      res.writeHead(404, headers);
      res.end("not found");
      return;
    }
    res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}
