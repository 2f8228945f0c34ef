// The fuzzer in the default suite: a few hundred seeded cases per parser (the full 10,000 per target is
// `npm run fuzz`), and the supervisor's own detection of each kind of failure, planted.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FAILURES, runFuzz, table, type Kind } from "../fuzz/run.js";
import { PLANTED } from "../fuzz/planted.js";
import { TARGETS } from "../fuzz/targets.js";

test("the supervisor reports each planted outcome as its kind, pinned to its case, and goes on after each kill", async () => {
  const [r] = await runFuzz({ targets: ["planted"], cases: PLANTED.length, seed: 1, timeoutMs: 5000, memoryMb: 300, jobs: 1 });
  for (const [i, what] of PLANTED.entries()) {
    assert.equal(r.counts[what as Kind], 1, `${what}: ${table([r])}`);
    if (FAILURES.includes(what as Kind))
      assert.ok(
        r.failures.some((f) => f.i === i && f.kind === what),
        `case ${i} reported as ${what}: ${JSON.stringify(r.failures)}`,
      );
  }
  assert.equal(r.failures.length, PLANTED.filter((w) => FAILURES.includes(w as Kind)).length);
});

test("300 seeded mutations per parser: no crash, hang, blow-up, silent accept, false rejection or unnamed error", async () => {
  const reports = await runFuzz({ targets: Object.keys(TARGETS), cases: 300, seed: 20261204, timeoutMs: 20_000, memoryMb: 1024, jobs: 1 });
  const failures = reports.flatMap((r) => r.failures.map((f) => `${r.target} case ${f.i} [${f.kind}] ${f.note}: ${f.detail ?? ""}`));
  assert.deepEqual(failures, [], table(reports));
  for (const r of reports) {
    // the mutations must exercise both sides of each parser, or the run proves little
    assert.ok(r.counts.accepted > 0 && r.counts.rejected > 0, `${r.target}: ${table([r])}`);
  }
});
