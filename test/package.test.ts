// The package as a user installs it: `import * as nb from "nabla"` resolves through package.json exports to dist/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers.js";

test("package.json exports '.' → dist/index.js with type declarations", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.equal(pkg.name, "nabla");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.exports["."].import, "./dist/index.js");
  assert.ok(existsSync(join(ROOT, "dist", "index.js")), "dist/index.js missing: run npm run build");
  assert.ok(existsSync(join(ROOT, "dist", "index.d.ts")), "dist/index.d.ts missing");
});

test("import * as nb from 'nabla' works (package self-reference)", async () => {
  const nb = await import("nabla");
  const x = nb.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [
    [2, 4],
    [6, 8],
  ]);
});
