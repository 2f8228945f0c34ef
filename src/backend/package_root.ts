// The package's root folder under Node (where binding.gyp, build/, prebuilds/ and wasm/ are): the nearest
// folder above this file holding binding.gyp (dist/ and test builds differ in depth).

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function packageRoot(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(join(root, "binding.gyp")); i++) root = dirname(root);
  return root;
}
