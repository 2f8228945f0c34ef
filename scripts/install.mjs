// npm's install step for nabla. With a prebuilt addon for this platform that loads, nothing to do (no
// compiler needed; `npm install --ignore-scripts` gets the same result). Otherwise build the addon from its
// sources with node-gyp; if that fails too, nabla runs on its js backend — one line says so here, and
// `nb.backend.getBackend().info.native` says why at run time. Never more than one line of output.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = `${process.platform}-${process.arch}`;
const prebuilt = join(root, "prebuilds", target, "nabla_native.node");

function loads(file) {
  try {
    createRequire(import.meta.url)(file);
    return true;
  } catch {
    return false;
  }
}

if (!(existsSync(prebuilt) && loads(prebuilt)) && !existsSync(join(root, "build", "Release", "nabla_native.node"))) {
  // npm runs install scripts with its node-gyp in npm_config_node_gyp (and nodedir etc. in the environment)
  const gyp = process.env.npm_config_node_gyp;
  const r = gyp
    ? spawnSync(process.execPath, [gyp, "rebuild", "-j", "max"], { cwd: root, encoding: "utf8" })
    : spawnSync("node-gyp rebuild -j max", { cwd: root, encoding: "utf8", shell: true });
  if (r.status !== 0) {
    const why =
      r.status === 127
        ? "node-gyp not found"
        : (`${r.stderr ?? ""}${r.error?.message ?? ""}`.split("\n").find((l) => /error/i.test(l)) ?? `exit code ${r.status}`);
    console.log(`nabla: no prebuilt addon for ${target} and the native build failed (${why.trim().slice(0, 160)}); using the js backend`);
  }
}
