// A small, strict command-line parser: --flag value / --flag=value / boolean --flag, with typed specs.

import { closest } from "../ops/args.js";

export type FlagType = "string" | "number" | "int" | "boolean";
export interface FlagSpec {
  type: FlagType;
  default?: string | number | boolean;
  help: string;
  choices?: string[];
  /** The value's name in the help (default VALUE or N). */
  metavar?: string;
}

export class UsageError extends Error {}

export function parseArgs(
  argv: string[],
  specs: Record<string, FlagSpec>,
  positional: string[] = [],
): { flags: Record<string, any>; positionals: string[] } {
  const flags: Record<string, any> = {};
  const positionals: string[] = [];
  for (const [k, s] of Object.entries(specs)) if (s.default !== undefined) flags[k] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      if (positionals.length >= positional.length && !positional.at(-1)?.endsWith("..."))
        throw new UsageError(`unexpected argument '${a}'`);
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const spec = specs[name];
    if (!spec) {
      const near = closest(name, Object.keys(specs));
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ""}`);
    }
    if (spec.type === "boolean") {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const raw = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    if (spec.type === "string") {
      if (spec.choices && !spec.choices.includes(raw))
        throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")} (got '${raw}')`);
      flags[name] = raw;
    } else {
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v)) throw new UsageError(`--${name} expects a number, got '${raw}'`);
      if (spec.type === "int" && !Number.isInteger(v)) throw new UsageError(`--${name} expects an integer, got '${raw}'`);
      flags[name] = v;
    }
  }
  return { flags, positionals };
}

/** Help for one command, every line within `width` columns (descriptions wrap under their column). */
export function helpText(usage: string, description: string, specs: Record<string, FlagSpec>, width = 100): string {
  const rows = Object.entries(specs).map(([k, s]) => {
    const left = `  --${k}${s.type === "boolean" ? "" : ` ${s.choices ? s.choices.join("|") : (s.metavar ?? (s.type === "string" ? "VALUE" : "N"))}`}`;
    const def = s.default !== undefined && s.type !== "boolean" ? ` (default ${s.default})` : "";
    return [left, `${s.help}${def}`];
  });
  rows.push(["  --help", "show this help"]);
  const w = Math.min(Math.max(...rows.map((r) => r[0].length)) + 2, 34);
  const lines: string[] = [];
  for (const [l, r] of rows) {
    const desc = wrap(r, width - w);
    // a flag too long for its column (a list of choices) gets a line of its own
    if (l.length + 2 > w) lines.push(l, ...desc.map((d) => " ".repeat(w) + d));
    else lines.push(l.padEnd(w) + desc[0], ...desc.slice(1).map((d) => " ".repeat(w) + d));
  }
  return `${usage}\n\n${description}\n\nOptions:\n${lines.join("\n")}`;
}

/** Words of `text` in lines of at most `width` characters (a longer word keeps its own line). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const word of text.split(" ")) {
    if (cur && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  return [...out, cur];
}
