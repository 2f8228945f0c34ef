#!/usr/bin/env bash
# The native addon on arm64: compiles every source of binding.gyp with Debian's cross compiler (as node-gyp
# would; portable kernels only), then links the kernel check (native/check/kernels_check.cc) with the kernel
# sources for arm64 and runs it under qemu. Needs: apt-get install g++-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=aarch64-linux-gnu-g++
for tool in "$CXX" qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "check-arm64: $tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)" >&2; exit 1; }
done
# Node's headers: beside the node binary, or where node-gyp keeps downloaded ones
NODE_INC="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
[ -f "$NODE_INC/node_api.h" ] || NODE_INC="${HOME:-/root}/.cache/node-gyp/$(node -p process.versions.node)/include/node"
[ -f "$NODE_INC/node_api.h" ] || { echo "check-arm64: Node's headers not found (beside node, or in node-gyp's cache)" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
FLAGS=(-O3 -std=c++17 -fno-math-errno -Wall -Wno-psabi)
KERNELS=(native/kernels/*.cc)
# compile the sources two at a time (the kernels take most of a minute each way on one core)
printf '%s\n' native/binding/napi.cc "${KERNELS[@]}" | xargs -P 2 -I{} sh -c \
  '"$0" "$@" -fPIC -I"'"$NODE_INC"'" -c {} -o "'"$OUT"'/$(basename {} .cc).o"' "$CXX" "${FLAGS[@]}"
echo "check-arm64: the addon compiles for arm64 ($("$CXX" --version | head -1))"
"$CXX" "${FLAGS[@]}" -static -o "$OUT/kernels_check" native/check/kernels_check.cc "${KERNELS[@]/#/}" -lpthread
qemu-aarch64 "$OUT/kernels_check"
