// The lab page in a real browser: Debian's chromium, headless, driven by playwright-core (launched by path;
// nothing is downloaded). The page loads with no console error and no request outside the local server,
// every card shows a figure, three experiments run live in the page's worker to their verdict with the
// numbers Node computes on the same (js) backend for the same parameters and seed, and the URL carries them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers.js";
import { launchChromium, noChromium, watchPage } from "./chromium.js";
import * as lab from "../src/lab/index.js";

const skip = noChromium;

/** The numbers of a run in a separate Node process on the js backend (the page's backend). */
function nodeNumbers(id: string, params: Record<string, unknown>, seed: number): Record<string, number> {
  const script = `import(${JSON.stringify(join(ROOT, "dist", "lab", "index.js"))}).then((lab) => console.log(JSON.stringify(lab.runExperiment(${JSON.stringify(id)}, ${JSON.stringify(params)}, ${seed}).numbers)))`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, NABLA_BACKEND: "js" } }));
}

test(
  "the lab page in headless Chromium: loads clean, draws every card, runs four experiments live with Node's numbers",
  { skip, timeout: 300_000 },
  async () => {
    const server = (await import(join(ROOT, "scripts", "lab.mjs"))) as {
      buildLab(): Promise<void>;
      serveLab(port: number): Promise<{ url: string; close(): Promise<void> }>;
    };
    await server.buildLab();
    const srv = await server.serveLab(0);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      const { errors, outside } = watchPage(page, srv.url);
      await page.goto(srv.url);
      assert.equal(await page.evaluate(() => crossOriginIsolated), true, "COOP / COEP headers make the page cross-origin isolated");
      // every card: a figure with at least one drawn line or point
      for (const e of lab.experiments) {
        const marks = await page.locator(`#${e.id} .figure svg`).locator("polyline, circle").count();
        assert.ok(marks > 0, `${e.id}: the card draws a plot`);
      }
      const runs: [string, Record<string, string>][] = [
        ["quadratic", { kappa: "50" }],
        ["adaptive", { steps: "200" }],
        ["losses", { points: "100", outliers: "0.2" }],
      ];
      for (const [id, knobs] of runs) {
        for (const [k, v] of Object.entries(knobs)) await page.fill(`#${id} [name="${k}"]`, v);
        await page.fill(`#${id} [name="seed"]`, "3");
        await page.click(`#${id} button`);
        await page.waitForSelector(`#${id} .verdict[data-state="done"]`, { timeout: 120_000 });
        const got = JSON.parse((await page.getAttribute(`#${id} .verdict`, "data-numbers"))!);
        const params = Object.fromEntries(Object.entries(knobs).map(([k, v]) => [k, Number(v)]));
        // Equal to the last bits on quadratic; the noisy-regression losses of adaptive differ in the last ulp or
        // two between Chromium's V8 and Node 20's (their Math library), hence 1e-12 relative
        const want = nodeNumbers(id, params, 3);
        assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
        for (const k of Object.keys(want))
          assert.ok(
            got[k] === want[k] || Math.abs(got[k] - want[k]) <= 1e-12 * Math.abs(want[k]),
            `${id} ${k}: page ${got[k]} vs Node ${want[k]}`,
          );
        if (id !== "depth") assert.match((await page.textContent(`#${id} .verdict`))!, /^Holds at these settings/);
        const hash = await page.evaluate(() => location.hash);
        assert.ok(hash.startsWith(`#${id}?`) && hash.includes("seed=3"), hash);
        for (const [k, v] of Object.entries(knobs)) assert.ok(hash.includes(`${k}=${v}`), `${hash} carries ${k}`);
      }
      mkdirSync(join(ROOT, "runs", "screenshots"), { recursive: true });
      await page.locator("#adaptive").screenshot({ path: join(ROOT, "runs", "screenshots", "lab-adaptive.png") });
      await page.screenshot({ path: join(ROOT, "runs", "screenshots", "lab-page.png"), fullPage: true });
      // a shared URL fills that card's knobs
      const shared = await browser.newPage();
      await shared.goto(`${srv.url}#quadratic?kappa=30&lrScale=0.5&seed=4`);
      assert.equal(await shared.inputValue('#quadratic [name="kappa"]'), "30");
      assert.equal(await shared.inputValue('#quadratic [name="seed"]'), "4");
      assert.deepEqual(errors, [], "no console errors");
      assert.deepEqual(outside, [], "no request outside the local server");
    } finally {
      await browser.close();
      await srv.close();
    }
  },
);
