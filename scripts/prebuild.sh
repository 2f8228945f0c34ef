#!/usr/bin/env bash
# Prebuilt addons shipped inside the npm package (npm pack / publish run this as prepack), so an install
# needs no compiler: prebuilds/linux-x64/nabla_native.node (node-gyp; AVX-512 / AVX2 / portable kernels
# chosen at run time) and prebuilds/linux-arm64/nabla_native.node (Debian's cross compiler; portable
# kernels). Both link libstdc++ and libgcc statically and use only Node-API, so one file serves Node 20,
# 22 and 24. Needs g++ (and g++-aarch64-linux-gnu for arm64; NABLA_PREBUILD_HOST_ONLY=1 skips arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "prebuild: runs on linux-x64 (it cross-compiles arm64 from there)" >&2; exit 1; }
# node-gyp through npm, which passes it npm's configuration (nodedir: Debian's Node headers, no download)
npm run --silent build:native >/dev/null
mkdir -p prebuilds/linux-x64
strip --strip-unneeded -o prebuilds/linux-x64/nabla_native.node build/Release/nabla_native.node
echo "prebuild: prebuilds/linux-x64/nabla_native.node ($(stat -c %s prebuilds/linux-x64/nabla_native.node) bytes)"
# the wasm backend's module (one file for every platform); NABLA_PREBUILD_NO_WASM=1 packs without it
if [ "${NABLA_PREBUILD_NO_WASM:-0}" = 1 ]; then echo "prebuild: wasm/nabla.wasm skipped (NABLA_PREBUILD_NO_WASM=1)"; else bash scripts/build-wasm.sh; fi
if [ "${NABLA_PREBUILD_HOST_ONLY:-0}" = 1 ]; then
  echo "prebuild: arm64 skipped (NABLA_PREBUILD_HOST_ONLY=1)"
  exit 0
fi
CXX=aarch64-linux-gnu-g++
command -v "$CXX" >/dev/null || { echo "prebuild: $CXX not found (apt-get install g++-aarch64-linux-gnu), or set NABLA_PREBUILD_HOST_ONLY=1" >&2; exit 1; }
NODE_INC="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
[ -f "$NODE_INC/node_api.h" ] || NODE_INC="${HOME:-/root}/.cache/node-gyp/$(node -p process.versions.node)/include/node"
[ -f "$NODE_INC/node_api.h" ] || { echo "prebuild: Node's headers not found (beside node, or in node-gyp's cache)" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
FLAGS=(-O3 -std=c++17 -fno-math-errno -fvisibility=hidden -Wall -Wno-psabi -fPIC)
# the sources binding.gyp lists, two at a time
node -e 'for (const s of JSON.parse(require("fs").readFileSync("binding.gyp", "utf8")).targets[0].sources) console.log(s)' |
  xargs -P 2 -I{} sh -c '"$0" "$@" -DNODE_GYP_MODULE_NAME=nabla_native -DBUILDING_NODE_EXTENSION -D_FILE_OFFSET_BITS=64 -I"'"$NODE_INC"'" -c {} -o "'"$OUT"'/$(basename {} .cc).o"' "$CXX" "${FLAGS[@]}"
mkdir -p prebuilds/linux-arm64
"$CXX" -shared -s -static-libstdc++ -static-libgcc -o prebuilds/linux-arm64/nabla_native.node "$OUT"/*.o -lpthread
echo "prebuild: prebuilds/linux-arm64/nabla_native.node ($(stat -c %s prebuilds/linux-arm64/nabla_native.node) bytes)"
