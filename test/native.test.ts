// The native addon as the suite sees it: loaded whenever it was built (a build that does not load must fail
// the suite, not leave it green with zero parity tests), and its TypeScript interface generated from the
// one kernel list (native/binding/kernel_list.h).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as nb from "../src/index.js";
import { ROOT } from "./helpers.js";

const built = existsSync(join(ROOT, "build", "Release", "nabla_native.node"));
const forcedJs = process.env.NABLA_BACKEND === "js";

test(
  "a built addon is the current backend unless NABLA_BACKEND=js",
  { skip: (!built && "the addon was not built (no C++ compiler)") || (forcedJs && "NABLA_BACKEND=js") },
  () => {
    assert.equal(nb.backend.getBackend().name, "native", "build/Release/nabla_native.node exists but the native backend did not load");
  },
);

test("src/backend/compiled/list.generated.ts is what kernel_list.h gives", () => {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "gen-addon-types.mjs"), "--check"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

test("the addon exports one function per kernel of the list", { skip: !built && "the addon was not built" }, () => {
  const addon = createRequire(import.meta.url)(join(ROOT, "build", "Release", "nabla_native.node")) as Record<string, unknown>;
  const list = readFileSync(join(ROOT, "native", "binding", "kernel_list.h"), "utf8");
  const names = [...list.matchAll(/K\((\w+), "/g)].map((m) => m[1]);
  assert.ok(names.length >= 20, `kernel_list.h lists ${names.length} kernels`);
  assert.deepEqual(Object.keys(addon).sort(), [...names, "info"].sort());
  // the generic parser names the kernel and the argument
  assert.throws(() => (addon.matmul as Function)(new Float32Array(1)), /nabla native matmul: 10 arguments expected, got 1/);
  assert.throws(
    () => (addon.unary as Function)(0, new Float32Array(2), new Float64Array(2)),
    /nabla native unary: float32 or float64 arrays of one type expected \(argument out differs\)/,
  );
  assert.throws(
    () => (addon.reduce as Function)(0, new Float32Array(4), -1, 4, 1, new Float32Array(1)),
    /nabla native reduce: argument outer must be an integer in \[0, 2\^31\)/,
  );
});
