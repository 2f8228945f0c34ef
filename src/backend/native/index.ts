// The native backend: the kernels of the Node-API addon (native/: kernels/ behind binding/napi.cc) as a
// compiled backend (../compiled). Loaded when the addon was built or a prebuilt one ships for this platform.

import { nodeModule } from "../../platform.js";
import type { Backend } from "../backend.js";
import type { Addon } from "../compiled/list.generated.js";
import { compiledBackend } from "../compiled/backend.js";
import { packageRoot } from "../package_root.js";

/** Try to load the addon; returns the backend (its `info` gives the ISA and threads), or the reason it is unavailable. */
export function loadNativeBackend(): { backend: Backend } | { error: string } {
  const fs = nodeModule("node:fs"),
    path = nodeModule("node:path"),
    mod = nodeModule("node:module");
  if (!fs || !path || !mod) return { error: "not available outside Node (the wasm backend is: nb.backend.loadWasm())" };
  const { existsSync } = fs,
    { join } = path,
    { createRequire } = mod;
  const root = packageRoot();
  // as node-gyp-build: an addon built here (npm install compiled it, or a developer did) before the one
  // shipped in prebuilds/ for this platform
  const candidates: [string, string][] = [
    [join(root, "build", "Release", "nabla_native.node"), "built from source"],
    [join(root, "prebuilds", `${process.platform}-${process.arch}`, "nabla_native.node"), `prebuilt ${process.platform}-${process.arch}`],
  ];
  const found = candidates.find(([file]) => existsSync(file));
  if (!found) return { error: `no prebuilt addon for ${process.platform}-${process.arch} and none built (npm run build:native)` };
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(found[0]) as Addon;
  } catch (e) {
    return { error: `${found[0]}: ${(e as Error).message.split("\n")[0]}` };
  }
  return { backend: compiledBackend("native", addon, { addon: found[1] }) };
}
