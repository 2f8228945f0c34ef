// `nabla lab list` and `nabla lab run ID [--PARAM value …] [--seed N] [--out DIR]`: the primer's claims as
// experiments (src/lab), run in the terminal; the verdict is printed, the metrics (JSON) and the figure
// (SVG) written.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as lab from "../lab/index.js";
import { writeFileAtomic } from "../io/safetensors.js";
import { helpText, parseArgs, UsageError, type FlagSpec } from "./args.js";
import { closest } from "../ops/args.js";

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flags of one experiment: its parameters (kebab-case), --seed and --out. */
function specsOf(e: lab.Experiment): Record<string, FlagSpec> {
  const specs: Record<string, FlagSpec> = {};
  for (const [k, p] of Object.entries(e.params)) {
    const range = p.min !== undefined ? `, ${p.min}–${p.max}` : "";
    if (typeof p.default === "boolean")
      specs[kebab(k)] = { type: "string", choices: ["true", "false"], default: String(p.default), help: p.help };
    else if (typeof p.default === "string")
      specs[kebab(k)] = { type: "string", choices: p.choices ? [...p.choices] : undefined, default: p.default, help: p.help };
    else specs[kebab(k)] = { type: p.integer ? "int" : "number", default: p.default, help: `${p.help}${range}` };
  }
  specs.seed = { type: "int", default: 0, help: "random seed" };
  specs.out = { type: "string", metavar: "DIR", default: join("runs", "lab"), help: "folder for ID.json (metrics) and ID.svg (figure)" };
  return specs;
}

function list(): void {
  for (const e of lab.experiments) console.log(`${e.id.padEnd(16)}${e.title}\n${"".padEnd(16)}${e.section}: “${e.claim}”`);
}

function run(argv: string[]): void {
  const [id, ...rest] = argv;
  if (!id || id.startsWith("--")) throw new UsageError(`lab run needs an experiment: ${lab.experiments.map((e) => e.id).join(", ")}`);
  const e = lab.experiments.find((x) => x.id === id);
  if (!e) {
    const near = closest(
      id,
      lab.experiments.map((x) => x.id),
    );
    throw new UsageError(`unknown experiment '${id}'${near ? ` (did you mean ${near}?)` : ""}; see nabla lab list`);
  }
  const specs = specsOf(e);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(`Usage: nabla lab run ${id} [options]`, `${e.title}\n${e.section}: “${e.claim}”`, specs));
    return;
  }
  const { flags } = parseArgs(rest, specs);
  const given: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(e.params)) {
    const v = flags[kebab(k)];
    given[k] = typeof p.default === "boolean" ? v === "true" : v;
  }
  let params: lab.Params;
  try {
    params = lab.resolveParams(e, given);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const t0 = performance.now();
  const result = e.run(params, flags.seed, () => {});
  const seconds = (performance.now() - t0) / 1000;
  mkdirSync(flags.out, { recursive: true });
  const json = join(flags.out, `${id}.json`),
    svg = join(flags.out, `${id}.svg`);
  const enc = new TextEncoder();
  writeFileAtomic(json, enc.encode(JSON.stringify({ id, claim: e.claim, params, seed: flags.seed, seconds, ...result }, null, 1) + "\n"));
  writeFileAtomic(svg, enc.encode(lab.resultSvg(`nabla lab run ${id}`, result)));
  console.log(
    `${e.title}\n“${e.claim}”\n\n${result.holds ? "holds" : "does not hold"} at these settings: ${result.verdict}\n\nwrote ${json}, ${svg} (${seconds.toFixed(1)} s)`,
  );
}

export function labCmd(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub === "list") return list();
  if (sub === "run") return run(rest);
  throw new UsageError(`lab needs 'list' or 'run ID' (got ${sub === undefined ? "nothing" : `'${sub}'`})`);
}

export const labUsage = "Usage: nabla lab list | nabla lab run ID [--PARAM value …] [--seed N] [--out DIR]";
export const labHelp =
  "The primer's claims as experiments: `list` names them with the claim each tests; `run ID` runs one\n" +
  "(`nabla lab run ID --help` shows its parameters), prints the verdict it measured, and writes ID.json\n" +
  "(parameters, seed, numbers, plotted series) and ID.svg (the figure) into --out.";
