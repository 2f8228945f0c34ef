// A lab result's plots as one self-contained SVG (no script, no external reference): line plots with linear
// or log y axes, and 2-D landscapes as shaded cells (log-scaled values) with the series drawn as paths.

import type { LabResult, Landscape, Plot } from "./experiment.js";

const W = 420,
  H = 300,
  M = { left: 58, right: 14, top: 30, bottom: 40 };
const COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
  "#000000",
  "#aec7e8",
];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Round tick values covering [lo, hi]: about five steps of 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A tick's text: 4 significant digits, exponent form (with `digits` decimals) outside [1e-3, 1e4). */
export const tickLabel = (v: number, digits = 0) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(digits) : String(Number(v.toPrecision(4)));
const label = (v: number) => tickLabel(v);

/** The finite range of `vs`, widened when flat. */
function range(vs: number[]): [number, number] {
  const f = vs.filter(Number.isFinite);
  if (!f.length) return [0, 1];
  let lo = Math.min(...f),
    hi = Math.max(...f);
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) [lo, hi] = [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

function landscapeCells(l: Landscape, sx: (x: number) => number, sy: (y: number) => number): string {
  const min = l.values.reduce((a, b) => Math.min(a, b), Infinity);
  const logs = l.values.map((v) => Math.log10(v - min + 1e-3));
  const [lo, hi] = range(logs);
  const dx = (l.x[1] - l.x[0]) / (l.size - 1),
    dy = (l.y[1] - l.y[0]) / (l.size - 1);
  const cells: string[] = [];
  for (let j = 0; j < l.size; j++)
    for (let i = 0; i < l.size; i++) {
      const t = (logs[j * l.size + i] - lo) / (hi - lo);
      const g = Math.round(250 - 150 * t);
      const x = l.x[0] + (i - 0.5) * dx,
        y = l.y[0] + (j + 0.5) * dy;
      const w = sx(x + dx) - sx(x),
        h = sy(y - dy) - sy(y);
      cells.push(
        `<rect x="${sx(x).toFixed(1)}" y="${sy(y).toFixed(1)}" width="${(w + 0.6).toFixed(1)}" height="${(h + 0.6).toFixed(1)}" fill="rgb(${g},${g},${Math.min(255, g + 20)})"/>`,
      );
    }
  for (const [mx, my] of l.marks ?? [])
    cells.push(`<path d="M${sx(mx) - 5},${sy(my)}h10M${sx(mx)},${sy(my) - 5}v10" stroke="#000" stroke-width="1.5"/>`);
  return cells.join("");
}

/** One plot as an SVG group at horizontal offset x0. */
function plotSvg(p: Plot, x0: number): string {
  const pw = W - M.left - M.right,
    ph = H - M.top - M.bottom;
  const xs = p.landscape ? [...p.landscape.x] : p.series.flatMap((s) => s.points.map((q) => q[0]));
  const ty = (v: number) => (p.logY ? Math.log10(v) : v);
  const ys = p.landscape ? [...p.landscape.y] : p.series.flatMap((s) => s.points.map((q) => ty(q[1])));
  const [xlo, xhi] = range(xs),
    [ylo, yhi] = range(ys);
  const sx = (x: number) => x0 + M.left + ((x - xlo) / (xhi - xlo)) * pw;
  const sy = (y: number) => M.top + ph - ((y - ylo) / (yhi - ylo)) * ph;
  const clampY = (y: number) => Math.min(M.top + ph + 4, Math.max(M.top - 4, y));
  const parts: string[] = [`<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-size="12" font-weight="bold">${esc(p.title)}</text>`];
  if (p.landscape) parts.push(`<g>${landscapeCells(p.landscape, sx, sy)}</g>`);
  parts.push(`<rect x="${x0 + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  for (const t of niceTicks(xlo, xhi))
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${M.top + ph + 14}" text-anchor="middle" font-size="10">${label(t)}</text>`);
  const yt = p.logY
    ? niceTicks(Math.floor(ylo), Math.ceil(yhi)).filter((t) => Number.isInteger(t) && t >= ylo && t <= yhi)
    : niceTicks(ylo, yhi);
  for (const t of yt)
    parts.push(
      `<text x="${x0 + M.left - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end" font-size="10">${p.logY ? `1e${t}` : label(t)}</text>` +
        `<line x1="${x0 + M.left}" x2="${x0 + M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#ddd"/>`,
    );
  parts.push(`<text x="${x0 + M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(${x0 + 14},${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`,
  );
  const clip = `clip${Math.round(x0)}`;
  parts.push(`<clipPath id="${clip}"><rect x="${x0 + M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath>`);
  const legend: string[] = [];
  p.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const pts = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(ty(y)))
      .map(([x, y]) => `${sx(x).toFixed(1)},${clampY(sy(ty(y))).toFixed(1)}`);
    if (pts.length > 1)
      parts.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${color}" stroke-width="1.6" clip-path="url(#${clip})"/>`);
    else if (pts.length === 1) parts.push(`<circle cx="${pts[0].split(",")[0]}" cy="${pts[0].split(",")[1]}" r="3" fill="${color}"/>`);
    const ly = M.top + 12 + 13 * k;
    legend.push(
      `<line x1="${x0 + M.left + 8}" x2="${x0 + M.left + 24}" y1="${ly - 3}" y2="${ly - 3}" stroke="${color}" stroke-width="2"/>` +
        `<text x="${x0 + M.left + 28}" y="${ly}" font-size="10" fill="#222">${esc(s.name)}</text>`,
    );
  });
  // the legend over the lines, on a translucent card
  if (legend.length) {
    const wide = Math.max(...p.series.map((s) => s.name.length));
    parts.push(
      `<rect x="${x0 + M.left + 4}" y="${M.top + 3}" width="${Math.min(pw - 8, 30 + 5.6 * wide).toFixed(0)}" height="${13 * legend.length + 4}" fill="#fff" fill-opacity="0.75"/>`,
      ...legend,
    );
  }
  return `<g>${parts.join("")}</g>`;
}

/** Every plot of a result side by side, with the verdict underneath. */
export function resultSvg(title: string, r: LabResult): string {
  const n = Math.max(1, r.plots.length);
  const width = W * n;
  const words = r.verdict.split(" ");
  const lines: string[] = [];
  const perLine = Math.floor(width / 6.2);
  for (const w of words) {
    if (lines.length && lines[lines.length - 1].length + w.length + 1 <= perLine) lines[lines.length - 1] += ` ${w}`;
    else lines.push(w);
  }
  const height = H + 24 + 15 * lines.length;
  const verdict = lines.map((l, i) => `<text x="10" y="${H + 20 + 15 * i}" font-size="11">${esc(l)}</text>`).join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">` +
    `<title>${esc(title)}</title><rect width="${width}" height="${height}" fill="#fff"/>` +
    r.plots.map((p, i) => plotSvg(p, i * W)).join("") +
    verdict +
    `</svg>\n`
  );
}
