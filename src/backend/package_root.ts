// The package's root folder under Node (where binding.gyp, build/, prebuilds/ and wasm/ are): the nearest
// folder above this file holding binding.gyp (dist/ and test builds differ in depth).

import { requireNode } from "../platform.js";

export function packageRoot(): string {
  const { existsSync } = requireNode("node:fs", "finding the package's files");
  const { dirname, join } = requireNode("node:path", "finding the package's files");
  let root = dirname(requireNode("node:url", "finding the package's files").fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(root, "binding.gyp")); i++) root = dirname(root);
  return root;
}
