// Helpers for layer printouts in PyTorch's format (Python number and tuple spelling).

/** A number as Python prints it: 1e-05, 0.1, 1.0 → "1.0" only where asked. */
export function pyNum(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-4) {
    const [m, e] = v.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(v);
}

export const pyFloat = (v: number): string => (Number.isInteger(v) ? `${v}.0` : pyNum(v));
export const pyBool = (v: boolean): string => (v ? "True" : "False");
export const pyPair = (v: number | readonly number[]): string => (typeof v === "number" ? `(${v}, ${v})` : `(${v.join(", ")})`);
export const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);
