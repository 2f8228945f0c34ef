// The native addon compiles its kernels for AVX-512, AVX2+FMA and a portable baseline and picks the
// widest the CPU runs. A development machine with AVX-512 would never run the other two, so the
// kernel-heavy test files run again here with NABLA_ISA set to each narrower set this CPU supports.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as nb from "../src/index.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const FILES = [
  "backend",
  "ops.golden",
  "nn.golden",
  "optim.golden",
  "losses.golden",
  "gradcheck",
  "train",
  "zoo",
  "zoo.golden",
  "autograd",
  "module",
].map((f) => join(here, `${f}.test.js`));
const ORDER = ["avx512", "avx2", "portable"];
const info = nb.backend.getBackend().info;
const native = nb.backend.getBackend().name === "native" && typeof info?.isa === "string" && !process.env.NABLA_ISA;

const narrower = ORDER.slice(native ? ORDER.indexOf(info!.isa as string) + 1 : ORDER.length);
if (narrower.length === 0) {
  test(
    "the kernel tests under each narrower ISA",
    {
      skip: native ? `the CPU's widest set is ${info!.isa}: there is no narrower one` : "needs the native backend, with NABLA_ISA unset",
    },
    () => {},
  );
}
for (const isa of narrower) {
  test(`the kernel tests pass with the ${isa} kernels (NABLA_ISA=${isa})`, () => {
    // NODE_TEST_CONTEXT (set by a parent test runner) would make the inner runner report to it instead
    const { NODE_TEST_CONTEXT: _, ...rest } = process.env;
    const env = { ...rest, NABLA_ISA: isa, NABLA_BACKEND: "native" };
    const probe = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import * as nb from ${JSON.stringify(join(here, "..", "src", "index.js"))}; console.log(nb.backend.getBackend().info.isa)`,
      ],
      { env, encoding: "utf8" },
    );
    assert.equal(probe.stdout.trim(), isa, probe.stderr);
    const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", "--test-concurrency=1", ...FILES], {
      env,
      encoding: "utf8",
      timeout: 600_000,
    });
    const failed = r.stdout.split("\n").filter((l) => /^not ok|^# fail [1-9]/.test(l.trim()));
    assert.equal(r.status, 0, `NABLA_ISA=${isa}: ${failed.join("; ")}\n${r.stdout.slice(-3000)}${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, /^# pass [1-9]/m);
  });
}

test("NABLA_ISA names a set, or is reported and ignored", { skip: !native && "needs the native backend, with NABLA_ISA unset" }, () => {
  const r = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import * as nb from ${JSON.stringify(join(here, "..", "src", "index.js"))}; console.log(nb.backend.getBackend().info.isa)`,
    ],
    { env: { ...process.env, NABLA_ISA: "sse9", NABLA_BACKEND: "native" }, encoding: "utf8" },
  );
  assert.equal(r.stdout.trim(), info!.isa);
  assert.match(r.stderr, /NABLA_ISA=sse9 is not one of avx512, avx2, portable/);
});
