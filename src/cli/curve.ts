// The training curve `nabla train` writes beside its metrics: loss (train, validation) and accuracy per
// epoch as one self-contained SVG (no script, no external reference), readable in any browser or viewer.

import type { EpochRecord } from "../train/fit.js";
import { niceTicks as ticks, tickLabel } from "../lab/svg.js";

interface Series {
  name: string;
  color: string;
  dash?: string;
  points: [number, number][];
}

const W = 360,
  H = 240,
  M = { left: 52, right: 12, top: 28, bottom: 36 };

const label = (v: number) => tickLabel(v, 1);

/** One panel: axes, ticks, a line per series, a legend; `x0` is the panel's left edge. */
function panel(x0: number, title: string, series: Series[], epochs: number, yRange?: [number, number]): string {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  let [lo, hi] = yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (!ys.length) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pw = W - M.left - M.right,
    ph = H - M.top - M.bottom;
  const sx = (e: number) => x0 + M.left + (epochs > 1 ? ((e - 1) / (epochs - 1)) * pw : pw / 2);
  const sy = (v: number) => M.top + ph - ((v - lo) / (hi - lo)) * ph;
  const parts: string[] = [`<text x="${x0 + M.left}" y="16" font-weight="bold">${title}</text>`];
  for (const t of ticks(lo, hi)) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${x0 + M.left}" x2="${x0 + W - M.right}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${x0 + M.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`);
  }
  for (const t of ticks(1, Math.max(epochs, 1)).filter(Number.isInteger)) {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<text x="${x0 + M.left + pw / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`);
  parts.push(`<rect x="${x0 + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length) {
      const d = pts.map(([e, v]) => `${sx(e).toFixed(1)},${sy(v).toFixed(1)}`).join(" ");
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
      parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
      for (const [e, v] of pts) parts.push(`<circle cx="${sx(e).toFixed(1)}" cy="${sy(v).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = M.top + 12 + 14 * i;
    parts.push(
      `<line x1="${x0 + W - M.right - 96}" x2="${x0 + W - M.right - 80}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${x0 + W - M.right - 76}" y="${ly}" dominant-baseline="middle">${s.name}</text>`);
  });
  return parts.join("\n");
}

/** The training curve of `history` (fit's epoch records) as an SVG document. */
export function trainingCurveSvg(history: readonly EpochRecord[], title: string): string {
  const epochs = history.length ? history[history.length - 1].epoch : 1;
  const pts = (f: (r: EpochRecord) => number | undefined): [number, number][] =>
    history.map((r) => [r.epoch, f(r) ?? NaN] as [number, number]).filter((p) => p[1] !== null && !Number.isNaN(p[1]));
  const loss: Series[] = [
    { name: "train", color: "#1f77b4", points: pts((r) => r.trainLoss) },
    { name: "validation", color: "#d62728", dash: "5 3", points: pts((r) => r.valLoss) },
  ];
  const acc: Series[] = [
    { name: "train", color: "#1f77b4", points: pts((r) => 100 * r.trainAcc) },
    { name: "validation", color: "#d62728", dash: "5 3", points: pts((r) => (r.valAcc ? 100 * r.valAcc[1] : undefined)) },
  ];
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 20}" viewBox="0 0 ${2 * W} ${H + 20}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<g transform="translate(0, 20)">`,
    panel(0, "loss", loss, epochs),
    panel(W, "accuracy (top-1, %)", acc, epochs),
    `</g>`,
    `<text x="8" y="14" font-size="12">${esc(title)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
