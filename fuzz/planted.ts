// A target that plants one of each outcome, for the tests of the supervisor itself (test/fuzz.test.ts):
// case i does PLANTED[i % PLANTED.length]. It is not among the targets `npm run fuzz` runs by default.

import type { Target } from "./targets.js";

export const PLANTED = ["accepted", "rejected", "crash", "hang", "blow-up", "silent-accept", "unnamed-error", "false-reject"] as const;

export const plantedTarget = (): Target => ({
  name: "planted",
  setup() {},
  make(_rng, i) {
    const what = PLANTED[i % PLANTED.length];
    return { bytes: new Uint8Array([i & 255]), note: `planted ${what}`, mustAccept: what === "false-reject", info: { what } };
  },
  file: (dir) => `${dir}/planted.bin`,
  run(file, c) {
    switch (c.info!.what) {
      case "crash":
        process.kill(process.pid, "SIGSEGV");
        break;
      case "hang":
        for (;;);
      case "blow-up": {
        const hold: Buffer[] = [];
        for (;;) hold.push(Buffer.alloc(64 << 20, 1));
      }
      case "rejected":
      case "false-reject":
        throw new Error(`${file}: planted rejection`);
      case "unnamed-error":
        throw new Error("planted error that does not name the file");
    }
    return c.info!.what;
  },
  accepted: (_c, result) => (result === "silent-accept" ? "planted silent accept" : null),
  rejected: (c) => (c.mustAccept ? "rejected a valid file" : null),
});
