// The fuzz supervisor: `npm run fuzz -- [--cases N] [--seed S] [--targets a,b] [--timeout MS] [--memory MB]`
// runs N seeded cases per target, each in a child process watched for crashes (death mid-case), hangs
// (a case over the time limit) and blow-ups (resident memory over the limit); a killed child is replaced
// and the run goes on with the next case. `--replay TARGET:I` runs one case in this process and keeps its file.

import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { TARGETS } from "./targets.js";
import { runCase, targetNamed, type Outcome } from "./child.js";

export type Kind = Outcome | "crash" | "hang" | "blow-up";
export const FAILURES: Kind[] = ["crash", "hang", "blow-up", "silent-accept", "false-reject", "unnamed-error", "harness-error"];

export interface FuzzOptions {
  targets: string[];
  cases: number;
  seed: number;
  /** Per case, in ms. */
  timeoutMs: number;
  /** Resident-set limit of a child, in MB. */
  memoryMb: number;
  /** Targets run side by side. */
  jobs: number;
  log?: (line: string) => void;
}

export interface Failure {
  i: number;
  kind: Kind;
  note: string;
  detail?: string;
}

export interface TargetReport {
  target: string;
  cases: number;
  counts: Record<Kind, number>;
  failures: Failure[];
  seconds: number;
  /** Largest resident set seen, MB. */
  peakMb: number;
}

const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "child.js");

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Run one target's cases [0, cases), replacing the child whenever it dies or is killed. */
function fuzzTarget(target: string, o: FuzzOptions): Promise<TargetReport> {
  const counts = Object.fromEntries(["accepted", "rejected", ...FAILURES].map((k) => [k, 0])) as Record<Kind, number>;
  const failures: Failure[] = [];
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `nabla-fuzz-${target}-`));
  let peakMb = 0;
  return new Promise((resolve, reject) => {
    let next = 0;
    const spawn = () => {
      if (next >= o.cases) {
        rmSync(dir, { recursive: true, force: true });
        resolve({ target, cases: o.cases, counts, failures, seconds: (Date.now() - t0) / 1000, peakMb });
        return;
      }
      const child = fork(CHILD, [], {
        execArgv: ["--max-old-space-size=4096", "--stack-size=984"],
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      });
      let stderr = "";
      child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
      let current = -1,
        started = 0,
        ready = false,
        killedAs: Kind | null = null,
        ended = false;
      const setupStart = Date.now();
      const watch = setInterval(() => {
        const mb = rssMb(child.pid!);
        peakMb = Math.max(peakMb, mb);
        if (!ready) {
          if (Date.now() - setupStart > 300_000) {
            child.kill("SIGKILL");
            reject(new Error(`fuzz ${target}: setup took over 300 s`));
          }
          return;
        }
        if (killedAs) return;
        // between cases (or a case whose start message was never flushed): the clock runs from the last message
        if (mb > o.memoryMb) killedAs = "blow-up";
        else if (Date.now() - started > o.timeoutMs) killedAs = "hang";
        if (killedAs) child.kill("SIGKILL");
      }, 20);
      child.on("message", (m: { t: string; i: number; outcome: Outcome; note: string; detail?: string }) => {
        if (m.t === "ready") {
          ready = true;
          started = Date.now();
        } else if (m.t === "start") {
          current = m.i;
          started = Date.now();
        } else if (m.t === "done") {
          counts[m.outcome]++;
          if (FAILURES.includes(m.outcome)) failures.push({ i: m.i, kind: m.outcome, note: m.note, detail: m.detail });
          current = -1;
          started = Date.now();
          next = m.i + 1;
          if (next % 1000 === 0) o.log?.(`  ${target}: ${next} / ${o.cases}`);
        } else if (m.t === "end") ended = true;
      });
      child.on("exit", (code, signal) => {
        clearInterval(watch);
        if (!ready) {
          reject(new Error(`fuzz ${target}: the child died while building its seeds (${signal ?? code}): ${stderr}`));
          return;
        }
        if (!ended) {
          const i = current >= 0 ? current : next;
          const kind: Kind = killedAs ?? (/heap out of memory|Allocation failed/.test(stderr) ? "blow-up" : "crash");
          counts[kind]++;
          failures.push({ i, kind, note: "", detail: killedAs ? `killed (${killedAs})` : `exit ${signal ?? code}: ${stderr.slice(-400)}` });
          next = i + 1;
        }
        spawn();
      });
      child.send({ target, seed: o.seed, from: next, to: o.cases, dir });
    };
    spawn();
  });
}

/** Every target's run, `jobs` at a time. */
export async function runFuzz(o: FuzzOptions): Promise<TargetReport[]> {
  const out: TargetReport[] = [];
  const queue = [...o.targets];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) out.push(await fuzzTarget(t, o));
  };
  await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  return o.targets.map((t) => out.find((r) => r.target === t)!);
}

export function table(reports: TargetReport[]): string {
  const cols: Kind[] = ["accepted", "rejected", ...FAILURES];
  const head = ["target", "cases", ...cols, "seconds", "peak MB"];
  const rows = reports.map((r) =>
    [r.target, r.cases, ...cols.map((k) => r.counts[k]), r.seconds.toFixed(1), Math.round(r.peakMb)].map(String),
  );
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

async function cli(argv: string[]): Promise<number> {
  const get = (flag: string, def: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
  };
  for (const a of argv)
    if (a.startsWith("--") && !["--cases", "--seed", "--targets", "--timeout", "--memory", "--jobs", "--replay"].includes(a)) {
      console.error(`fuzz: unknown option ${a}`);
      return 2;
    }
  const seed = Number(get("--seed", "1"));
  const replay = get("--replay", "");
  if (replay) {
    const [name, i] = replay.split(":");
    const make = targetNamed(name);
    if (!make) {
      console.error(`fuzz: unknown target ${name}`);
      return 2;
    }
    const t = make();
    const dir = mkdtempSync(join(tmpdir(), `nabla-replay-${name}-`));
    t.setup(dir);
    const r = runCase(t, seed, Number(i), dir);
    console.log(`${name} case ${i} (seed ${seed}): ${r.note} -> ${r.outcome}${r.detail ? `: ${r.detail}` : ""}\nfile: ${r.file}`);
    return FAILURES.includes(r.outcome) ? 1 : 0;
  }
  const targets = get("--targets", Object.keys(TARGETS).join(",")).split(",");
  for (const t of targets)
    if (!targetNamed(t)) {
      console.error(`fuzz: unknown target ${t} (targets: ${Object.keys(TARGETS).join(", ")})`);
      return 2;
    }
  const o: FuzzOptions = {
    targets,
    cases: Number(get("--cases", "10000")),
    seed,
    timeoutMs: Number(get("--timeout", "10000")),
    memoryMb: Number(get("--memory", "1024")),
    jobs: Number(get("--jobs", "2")),
    log: (l) => console.log(l),
  };
  console.log(
    `fuzz: ${o.cases} cases per target, seed ${o.seed}, ${o.timeoutMs} ms and ${o.memoryMb} MB per case, targets ${targets.join(", ")}`,
  );
  const reports = await runFuzz(o);
  console.log(table(reports));
  let bad = 0;
  for (const r of reports)
    for (const f of r.failures.slice(0, 20)) {
      bad++;
      console.log(
        `${r.target} case ${f.i} [${f.kind}] ${f.note}: ${f.detail ?? ""}  (replay: npm run fuzz -- --seed ${o.seed} --replay ${r.target}:${f.i})`,
      );
    }
  return reports.some((r) => r.failures.length) ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) cli(process.argv.slice(2)).then((c) => (process.exitCode = c));
