// Headless Chromium for the browser tests: Debian's chromium launched by path through playwright-core
// (nothing downloaded), and a page's console errors and requests outside the local server.

import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
let pw: typeof import("playwright-core") | null = null;
try {
  pw = await import("playwright-core");
} catch {
  pw = null;
}

/** Why the browser tests cannot run here, or false. */
export const noChromium: string | false = !CHROMIUM
  ? "no chromium (apt-get install chromium)"
  : !pw
    ? "playwright-core is not installed"
    : false;

export function launchChromium(): Promise<Browser> {
  return pw!.chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/**
 * Collects the page's console errors, uncaught exceptions and requests that leave `base` from now on (a
 * blob: URL of `base`'s origin, such as the wasm pool's worker script, stays on the page).
 */
export function watchPage(page: Page, base: string): { errors: string[]; outside: string[] } {
  const errors: string[] = [],
    outside: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  const blob = `blob:${new URL(base).origin}/`;
  page.on("request", (r) => !r.url().startsWith(base) && !r.url().startsWith(blob) && outside.push(r.url()));
  return { errors, outside };
}
