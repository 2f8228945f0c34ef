#!/usr/bin/env node
// Accuracy, not only error: the small-input ResNet-18 trained for one epoch on Fashion-MNIST (the full
// 60,000 images when dataset-fashion-mnist is installed, else the shipped slice) in fp32Precision "ieee"
// with seeds 0, 1, 2 (the seed-to-seed spread) and in "fast" with the same seeds, then tested on the test
// split. Each run is `nabla train` in its own process with NABLA_FP32_PRECISION set. Long (about 10 min per
// run on 2 cores with the full set): run by hand, `npm run build && node scripts/precision-accuracy.mjs
// [seeds, e.g. 0,1,2] [fast seeds, e.g. 0] [training images, e.g. 10000; default all]`. The test split is
// always whole.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const seeds = (process.argv[2] ?? "0,1,2").split(",").map(Number);
const fastSeeds = (process.argv[3] ?? process.argv[2] ?? "0,1,2").split(",").map(Number);
const limit = process.argv[4] ? ["--limit", process.argv[4]] : [];
const out = mkdtempSync(join(tmpdir(), "nabla-precision-"));
const runs = [...fastSeeds.map((s) => ["fast", s]), ...seeds.map((s) => ["ieee", s])];
const acc = { ieee: {}, fast: {} };
for (const [mode, seed] of runs) {
  const t0 = Date.now();
  const args = [
    "--model",
    "resnet18",
    "--epochs",
    "1",
    "--val-split",
    "0",
    "--seed",
    String(seed),
    ...limit,
    "--out",
    join(out, `${mode}-${seed}`),
  ];
  const text = execFileSync(process.execPath, [join(root, "dist", "cli", "main.js"), "train", ...args], {
    encoding: "utf8",
    env: { ...process.env, NABLA_FP32_PRECISION: mode },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const m = text.match(/test accuracy: ([\d.]+)%/);
  if (!m) throw new Error(`no test accuracy in the output of ${mode} seed ${seed}:\n${text}`);
  acc[mode][seed] = Number(m[1]);
  console.log(`${mode} seed ${seed}: test accuracy ${m[1]} % (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
const spread = (v) => (v.length ? Math.max(...v) - Math.min(...v) : NaN);
const ie = Object.values(acc.ieee);
console.log(`ieee over seeds ${seeds.join(", ")}: ${ie.join(" / ")} %, spread ${spread(ie).toFixed(2)} points`);
for (const s of fastSeeds) {
  if (acc.ieee[s] === undefined) continue;
  console.log(`seed ${s}: fast − ieee = ${(acc.fast[s] - acc.ieee[s]).toFixed(2)} points`);
}
