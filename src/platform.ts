// Node's built-in modules, looked up when a function needs them (process.getBuiltinModule, Node ≥ 20.16)
// instead of imported: no module of the library imports `node:*`, so a browser bundle of "nabla" needs no
// stubs, and what needs a file system says so when it is called outside Node.

type Builtins = {
  "node:fs": typeof import("node:fs");
  "node:path": typeof import("node:path");
  "node:url": typeof import("node:url");
  "node:zlib": typeof import("node:zlib");
  "node:module": typeof import("node:module");
  "node:buffer": typeof import("node:buffer");
  "node:worker_threads": typeof import("node:worker_threads");
  "node:os": typeof import("node:os");
};

const getBuiltin: ((name: string) => unknown) | undefined =
  typeof process === "undefined" ? undefined : (process as { getBuiltinModule?: (name: string) => unknown }).getBuiltinModule;

/** The built-in module under Node, or null elsewhere (a browser). */
export function nodeModule<K extends keyof Builtins>(name: K): Builtins[K] | null {
  return getBuiltin ? (getBuiltin(name) as Builtins[K]) : null;
}

/** The built-in module; outside Node an error that names what needed it (`what`: "reading a file", …). */
export function requireNode<K extends keyof Builtins>(name: K, what: string): Builtins[K] {
  const m = nodeModule(name);
  if (m === null)
    throw new Error(`nabla: ${what} needs Node's ${name} (outside Node, pass the bytes — a Uint8Array or ArrayBuffer — instead of a path)`);
  return m;
}
