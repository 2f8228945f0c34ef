// Check every link of the generated API reference (docs/api, written by `npx typedoc`): each relative
// href / src must name a file that exists, and each #fragment an id in that file. External links are
// listed, not fetched (CI has no network beyond the registries). Exit 1 with the broken links.
//   node scripts/check-doc-links.mjs [dir]

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? "docs/api");
if (!existsSync(join(root, "index.html"))) {
  console.error(`check-doc-links: no ${join(root, "index.html")}: run npx typedoc first`);
  process.exit(1);
}
const files = [];
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".html")) files.push(p);
  }
};
walk(root);

const ids = new Map();
const idsOf = (file) => {
  if (!ids.has(file)) {
    const set = new Set();
    for (const m of readFileSync(file, "utf8").matchAll(/\s(?:id|name)="([^"]+)"/g)) set.add(m[1]);
    ids.set(file, set);
  }
  return ids.get(file);
};

const broken = [];
let checked = 0,
  external = 0;
for (const file of files) {
  const html = readFileSync(file, "utf8");
  for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
    const link = m[1].replace(/&amp;/g, "&");
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) {
      external++;
      continue;
    }
    checked++;
    const [path, fragment] = link.split("#");
    const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path.split("?")[0]));
    if (!existsSync(target)) broken.push(`${relative(root, file)}: ${link} (no such file)`);
    else if (fragment && target.endsWith(".html") && !idsOf(target).has(decodeURIComponent(fragment)))
      broken.push(`${relative(root, file)}: ${link} (no id '${fragment}' in ${relative(root, target)})`);
  }
}
if (broken.length) {
  console.error(
    `check-doc-links: ${broken.length} broken of ${checked} links in ${files.length} pages:\n  ${broken.slice(0, 50).join("\n  ")}`,
  );
  process.exit(1);
}
console.log(`check-doc-links: ${checked} links in ${files.length} pages resolve (${external} external links not fetched)`);
