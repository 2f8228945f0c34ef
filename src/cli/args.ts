// A small, strict command-line parser: --flag value / --flag=value / boolean --flag, with typed specs.

export type FlagType = "string" | "number" | "int" | "boolean";
export interface FlagSpec {
  type: FlagType;
  default?: string | number | boolean;
  help: string;
  choices?: string[];
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
      if (positionals.length >= positional.length) throw new UsageError(`unexpected argument '${a}'`);
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name}`);
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

export function helpText(usage: string, description: string, specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([k, s]) => {
    const left = `  --${k}${s.type === "boolean" ? "" : ` ${s.choices ? s.choices.join("|") : s.type === "string" ? "VALUE" : "N"}`}`;
    const def = s.default !== undefined && s.type !== "boolean" ? ` (default ${s.default})` : "";
    return [left, `${s.help}${def}`];
  });
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return `${usage}\n\n${description}\n\nOptions:\n${rows.map(([l, r]) => l.padEnd(w) + r).join("\n")}\n  --help${" ".repeat(Math.max(1, w - 8))}show this help`;
}
