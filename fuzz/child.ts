// One supervised fuzzing process: builds a target's seeds, then runs the cases it is given, reporting
// each case's start (so a crash or hang is pinned to it) and its outcome to the supervisor (run.ts).

import { mkdirSync, writeFileSync } from "node:fs";
import { Rng } from "./rng.js";
import { TARGETS, type Case, type Target } from "./targets.js";
import { plantedTarget } from "./planted.js";

/** A target by name: the real ones, and the planted one of the supervisor's tests. */
export const targetNamed = (name: string): (() => Target) | undefined => (name === "planted" ? plantedTarget : TARGETS[name]);

export type Outcome = "accepted" | "rejected" | "silent-accept" | "false-reject" | "unnamed-error" | "harness-error";

export interface CaseResult {
  outcome: Outcome;
  note: string;
  detail?: string;
}

/** Make, write, run and judge case i of a target (also used by run.ts to replay one case). */
export function runCase(t: Target, seed: number, i: number, dir: string): CaseResult & { case: Case; file: string } {
  const c = t.make(Rng.forCase(seed, t.name, i), i);
  const file = t.file(dir, c);
  writeFileSync(file, c.bytes);
  let result: unknown;
  try {
    result = t.run(file, c);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!(t.named ? t.named(c, msg, file) : msg.includes(file)))
      return {
        outcome: "unnamed-error",
        note: c.note,
        detail: `${(e as Error)?.name}: ${msg.slice(0, 300)}${process.env.FUZZ_STACK ? `\n${(e as Error)?.stack}` : ""}`,
        case: c,
        file,
      };
    const bad = t.rejected(c, msg);
    return {
      outcome: bad ? "false-reject" : "rejected",
      note: c.note,
      detail: bad ? `${bad}: ${msg.slice(0, 300)}` : msg.slice(0, 160),
      case: c,
      file,
    };
  }
  const bad = t.accepted(c, result);
  return { outcome: bad ? "silent-accept" : "accepted", note: c.note, detail: bad ?? undefined, case: c, file };
}

interface Job {
  target: string;
  seed: number;
  from: number;
  to: number;
  dir: string;
}

if (process.send) {
  process.once("message", (job: Job) => {
    const t = targetNamed(job.target)!();
    mkdirSync(job.dir, { recursive: true });
    t.setup(job.dir);
    process.send!({ t: "ready" });
    for (let i = job.from; i < job.to; i++) {
      process.send!({ t: "start", i });
      let r: CaseResult;
      try {
        const { outcome, note, detail } = runCase(t, job.seed, i, job.dir);
        r = { outcome, note, detail };
      } catch (e) {
        r = { outcome: "harness-error", note: "", detail: (e as Error).stack?.slice(0, 400) };
      }
      process.send!({ t: "done", i, ...r });
    }
    process.send!({ t: "end" }, () => process.exit(0));
  });
}
