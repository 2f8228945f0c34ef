#!/usr/bin/env bash
# The package as a user gets it: `npm pack` (prepack builds dist/ and the prebuilt addons), then in scratch
# projects, for each Node given (default: the node on PATH):
#   - `npm install --ignore-scripts TARBALL` is timed and must take under 10 s; the native backend loads
#     from prebuilds/, from ESM (`import`) and CommonJS (`require("nabla")`), and agrees with js;
#   - an install with scripts and no C++ compiler on PATH still gets the prebuilt addon, silently;
#   - with no prebuilt for the platform and no compiler, the install prints one line, exits 0, and the
#     import is silent on the js backend (backend info says why).
# Usage: scripts/check-install.sh [path/to/node ...]
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=("$@")
[ ${#NODES[@]} -gt 0 ] || NODES=("$(command -v node)")
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -n "${NABLA_TARBALL:-}" ]; then TARBALL="$(readlink -f "$NABLA_TARBALL")"; else
  TARBALL="$WORK/$(npm pack --silent --pack-destination "$WORK" | tail -1)"
fi
LISTING="$(tar tzf "$TARBALL")"
echo "check-install: $(basename "$TARBALL") $(du -h "$TARBALL" | cut -f1) ($(echo "$LISTING" | wc -l) files)"
if echo "$LISTING" | grep '\.map$' >/dev/null; then echo "check-install: the package ships source maps" >&2; exit 1; fi
EXPECTED=(package/LICENSE package/prebuilds/linux-x64/nabla_native.node package/scripts/install.mjs)
[ "${NABLA_PREBUILD_HOST_ONLY:-0}" = 1 ] || EXPECTED+=(package/prebuilds/linux-arm64/nabla_native.node)
[ "${NABLA_PREBUILD_NO_WASM:-0}" = 1 ] || EXPECTED+=(package/wasm/nabla.wasm package/wasm/nabla-threads.wasm)
for f in "${EXPECTED[@]}"; do
  echo "$LISTING" | grep -x "$f" >/dev/null || { echo "check-install: $f missing from the package" >&2; exit 1; }
done

CHECK_ESM='import * as nb from "nabla";
const b = nb.backend.getBackend();
if (b.name !== "native" || !String(b.info.addon).startsWith("prebuilt")) throw new Error(`expected the prebuilt addon, got ${b.name} ${JSON.stringify(b.info)}`);
const a = nb.randn([64, 96]), w = nb.randn([96, 80]);
const y = nb.matmul(a, w);
nb.backend.setBackend("js");
const r = nb.matmul(a, w);
const err = Math.max(...y.data.map((v, i) => Math.abs(v - r.data[i])));
if (!(err < 1e-4)) throw new Error(`native and js differ by ${err}`);
console.log(`esm: ${b.name} ${JSON.stringify(b.info)}, matmul agrees with js to ${err.toExponential(1)}`);
if (process.env.NABLA_PREBUILD_NO_WASM !== "1") {
  // both shipped modules: two threads (workers on shared memory) and one; a GEMM big enough to split
  const a2 = nb.randn([256, 256]), w2 = nb.randn([256, 256]);
  const r2 = nb.matmul(a2, w2);
  for (const threads of [2, 1]) {
    const wb = await nb.backend.loadWasm(undefined, { threads });
    nb.backend.setBackend("wasm");
    if (wb.info.threads !== threads) throw new Error(`wasm: asked for ${threads} threads, got ${JSON.stringify(wb.info)}`);
    const yw = nb.matmul(a2, w2);
    const errW = Math.max(...yw.data.map((v, i) => Math.abs(v - r2.data[i])));
    if (!(errW < 1e-3)) throw new Error(`wasm and js differ by ${errW}`);
    console.log(`esm: the shipped wasm module loads (${JSON.stringify(wb.info)}), matmul agrees with js to ${errW.toExponential(1)}`);
  }
}'
CHECK_CJS='const nb = require("nabla");
const b = nb.backend.getBackend();
if (b.name !== "native") throw new Error(`require: expected native, got ${b.name}`);
console.log(`cjs: require("nabla") works, ${nb.models.list().length} models, backend ${b.name}`);'

for NODE in "${NODES[@]}"; do
  NODE="$(readlink -f "$NODE")"
  BIN="$WORK/bin-$("$NODE" --version)"
  mkdir -p "$BIN"
  ln -sf "$NODE" "$BIN/node"
  ln -sf "$(readlink -f /bin/sh)" "$BIN/sh" # npm runs install scripts with sh
  # npm from the system, run by this node; nothing else on PATH (no compiler, no make, no python)
  NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NODE" "$NPM_CLI" >"$BIN/npm"
  chmod +x "$BIN/npm"
  V="$("$NODE" --version)"
  for MODE in ignore-scripts no-compiler; do
    P="$WORK/project-$V-$MODE"
    mkdir -p "$P"
    (
      cd "$P"
      echo '{"name":"scratch","version":"1.0.0","private":true}' >package.json
      FLAGS=(--no-audit --no-fund --silent)
      [ "$MODE" = ignore-scripts ] && FLAGS+=(--ignore-scripts)
      START=$(date +%s%N)
      OUT="$(env -i HOME="$WORK/home" PATH="$BIN" npm_config_cache="$WORK/cache" npm_config_update_notifier=false npm install "${FLAGS[@]}" "$TARBALL" 2>&1)"
      MS=$((($(date +%s%N) - START) / 1000000))
      echo "check-install: node $V, npm install ($MODE): ${MS} ms"
      if [ -n "$OUT" ]; then echo "check-install: the install printed: $OUT" >&2; exit 1; fi
      [ "$MS" -lt 10000 ] || { echo "check-install: install took ${MS} ms (limit 10 s)" >&2; exit 1; }
      echo "$CHECK_ESM" >check.mjs
      echo "$CHECK_CJS" >check.cjs
      ERR="$(PATH="$BIN" node check.mjs 2>&1 >/dev/null)" || { echo "$ERR" >&2; exit 1; }
      [ -z "$ERR" ] || { echo "check-install: the import wrote to stderr: $ERR" >&2; exit 1; }
      PATH="$BIN" node check.mjs
      PATH="$BIN" node check.cjs
    )
  done
  # no prebuilt for this platform and no compiler: one line from the install, a silent js import
  P="$WORK/project-$V-no-compiler"
  (
    cd "$P"
    rm -rf node_modules/nabla/prebuilds node_modules/nabla/build
    LINE="$(env -i HOME="$WORK/home" PATH="$BIN" node node_modules/nabla/scripts/install.mjs 2>&1)"
    [ "$(printf '%s\n' "$LINE" | wc -l)" = 1 ] && [[ "$LINE" == "nabla: no prebuilt addon for linux-x64 and the native build failed"* ]] ||
      { echo "check-install: expected one line from the failed build, got: $LINE" >&2; exit 1; }
    OUT="$(PATH="$BIN" node --input-type=module -e 'import * as nb from "nabla"; const b = nb.backend.getBackend(); console.log(b.name, b.info.native)' 2>&1)"
    [[ "$OUT" == "js no prebuilt addon for linux-x64"* ]] || { echo "check-install: expected a silent js fallback, got: $OUT" >&2; exit 1; }
    echo "check-install: node $V without a prebuilt or a compiler: '$LINE'; import: $OUT"
  )
done
echo "check-install: ok"
