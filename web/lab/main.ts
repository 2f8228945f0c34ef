// The lab page: one card per experiment (the claim, its knobs, Run, the figure, the verdict). Runs happen
// in a Web Worker; streamed metrics redraw the figure at most once per animation frame. The last run's
// experiment, parameters and seed are in the URL (#id?param=value&seed=N), so a result can be shared.

import * as lab from "../../src/lab/index.js";

declare const RECORDED: Record<string, { params: lab.Params; seed: number; result: lab.LabResult }>;

const worker = new Worker("./worker.js");
const cards = new Map<
  string,
  {
    figure: HTMLElement;
    verdict: HTMLElement;
    button: HTMLButtonElement;
    inputs: Map<string, HTMLInputElement | HTMLSelectElement>;
    seed: HTMLInputElement;
  }
>();
let live: { id: string; result: lab.LabResult; frame: number } | null = null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function draw(id: string, result: lab.LabResult): void {
  cards.get(id)!.figure.innerHTML = lab.resultSvg(id, result);
}

function knobValues(id: string): { params: Record<string, unknown>; seed: number } {
  const c = cards.get(id)!;
  const e = lab.getExperiment(id);
  const params: Record<string, unknown> = {};
  for (const [k, input] of c.inputs) {
    const d = e.params[k].default;
    params[k] = typeof d === "number" ? Number(input.value) : typeof d === "boolean" ? input.value === "true" : input.value;
  }
  return { params, seed: Number(c.seed.value) };
}

function run(id: string): void {
  const c = cards.get(id)!;
  const { params, seed } = knobValues(id);
  const e = lab.getExperiment(id);
  try {
    lab.resolveParams(e, params);
  } catch (err) {
    c.verdict.textContent = (err as Error).message;
    return;
  }
  for (const b of cards.values()) b.button.disabled = true;
  c.verdict.textContent = "running…";
  c.verdict.dataset.state = "running";
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  query.set("seed", String(seed));
  history.replaceState(null, "", `#${id}?${query}`);
  live = { id, result: { holds: false, verdict: "", numbers: {}, plots: [] }, frame: 0 };
  worker.postMessage({ id, params, seed });
}

worker.onmessage = (ev: MessageEvent) => {
  const m = ev.data as { type: string; id: string; metrics?: lab.Metric[]; result?: lab.LabResult; seconds?: number; message?: string };
  const c = cards.get(m.id)!;
  if (m.type === "metrics" && live && live.id === m.id) {
    const plots = live.result.plots;
    for (const p of m.metrics!) {
      while (plots.length <= p.plot) plots.push({ title: "", xLabel: "", yLabel: "", series: [] });
      let s = plots[p.plot].series.find((x) => x.name === p.series);
      if (!s) plots[p.plot].series.push((s = { name: p.series, points: [] }));
      s.points.push([p.x, p.y]);
    }
    if (!live.frame) live.frame = requestAnimationFrame(() => live && ((live.frame = 0), draw(live.id, live.result)));
    return;
  }
  if (live?.frame) cancelAnimationFrame(live.frame);
  live = null;
  for (const b of cards.values()) b.button.disabled = false;
  if (m.type === "done") {
    draw(m.id, m.result!);
    c.verdict.textContent = `${m.result!.holds ? "Holds" : "Does not hold"} at these settings (${m.seconds!.toFixed(1)} s in this page): ${m.result!.verdict}`;
    c.verdict.dataset.state = "done";
    c.verdict.dataset.numbers = JSON.stringify(m.result!.numbers);
  } else {
    c.verdict.textContent = `error: ${m.message}`;
    c.verdict.dataset.state = "error";
  }
};

function card(e: lab.Experiment): HTMLElement {
  const root = el("section", { class: "card", id: e.id });
  root.append(el("h2", {}, e.title), el("p", { class: "claim" }, `${e.section}: “${e.claim}”`));
  const form = el("div", { class: "knobs" });
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const recorded = RECORDED[e.id];
  for (const [k, p] of Object.entries(e.params)) {
    const label = el("label", { title: p.help }, `${k} `);
    let input: HTMLInputElement | HTMLSelectElement;
    // heavy experiments: the figure is the full-scale recording, the knobs start at the reduced scale
    const value = String((e.heavy ? e.fast[k] : undefined) ?? recorded?.params[k] ?? p.default);
    if (typeof p.default === "string" || typeof p.default === "boolean") {
      input = el("select", { name: k });
      for (const ch of typeof p.default === "boolean" ? ["true", "false"] : (p.choices ?? [p.default]))
        input.append(el("option", { value: ch }, ch));
    } else {
      input = el("input", { name: k, type: "number", step: p.integer ? "1" : "any" });
      if (p.min !== undefined) input.setAttribute("min", String(p.min));
      if (p.max !== undefined) input.setAttribute("max", String(p.max));
    }
    input.value = value;
    label.append(input);
    form.append(label);
    inputs.set(k, input);
  }
  const seedLabel = el("label", {}, "seed ");
  const seed = el("input", { name: "seed", type: "number", step: "1" });
  seed.value = String(recorded?.seed ?? 0);
  seedLabel.append(seed);
  const button = el("button", { type: "button" }, "Run");
  button.onclick = () => run(e.id);
  form.append(seedLabel, button);
  const figure = el("div", { class: "figure" });
  const verdict = el("p", { class: "verdict" });
  if (recorded) {
    figure.innerHTML = lab.resultSvg(e.id, recorded.result);
    verdict.textContent = `Recorded in Node at these settings: ${recorded.result.verdict}`;
    verdict.dataset.state = "recorded";
  }
  root.append(form, figure, verdict);
  cards.set(e.id, { figure, verdict, button, inputs, seed });
  return root;
}

const main = document.getElementById("cards")!;
for (const e of lab.experiments) main.append(card(e));

// #id?k=v&seed=N: fill that card's knobs and bring it into view
const [hashId, hashQuery] = location.hash.slice(1).split("?");
if (hashId && cards.has(hashId)) {
  const q = new URLSearchParams(hashQuery ?? "");
  const c = cards.get(hashId)!;
  for (const [k, v] of q) {
    const input = k === "seed" ? c.seed : c.inputs.get(k);
    if (input) input.value = v;
  }
  document.getElementById(hashId)!.scrollIntoView();
}
