// Records every lab experiment at its default settings in Node (after npm run build) into
// web/lab/recorded.json, the figures the lab page shows before anything runs in it. Series are thinned to
// at most 300 points each (the first and last kept).  Usage: node scripts/lab-record.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as lab from "../dist/lab/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const thin = (pts) => (pts.length <= 300 ? pts : pts.filter((_, i) => i % Math.ceil(pts.length / 300) === 0 || i === pts.length - 1));
const out = {};
for (const e of lab.experiments) {
  const params = lab.resolveParams(e, {});
  const t0 = performance.now();
  const result = e.run(params, 0, () => {});
  for (const p of result.plots) for (const s of p.series) s.points = thin(s.points);
  out[e.id] = { params, seed: 0, result };
  console.log(`${e.id}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${result.holds ? "holds" : "does not hold"}`);
}
writeFileSync(join(ROOT, "web", "lab", "recorded.json"), JSON.stringify(out) + "\n");
