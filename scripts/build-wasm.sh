#!/usr/bin/env bash
# npm run build:wasm: the WebAssembly backend's module, wasm/nabla.wasm, from the same kernel sources as the
# Node addon (native/kernels, portable variants: GCC vector extensions become SIMD128) behind
# native/binding/wasm.cc, with Debian's clang and wasm32 libc++ (no emscripten):
#   apt-get install clang-16 lld-16 libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 libclang-rt-16-dev-wasm32 wasi-libc
# CLANG names another clang. Exits 1 with the missing piece named when the toolchain is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG="${CLANG:-$(command -v clang-16 || command -v clang || true)}"
SYSROOT_CXX=/usr/include/wasm32-wasi/c++/v1
[ -n "$CLANG" ] || { echo "build-wasm: clang not found (apt-get install clang-16 lld-16 libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 libclang-rt-16-dev-wasm32 wasi-libc)" >&2; exit 1; }
[ -d "$SYSROOT_CXX" ] || { echo "build-wasm: $SYSROOT_CXX not found (apt-get install libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 wasi-libc)" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
FLAGS=(--target=wasm32-wasi -O3 -msimd128 -std=c++17 -fno-exceptions -fno-math-errno -Wall -Wno-psabi -isystem "$SYSROOT_CXX")
SOURCES=(native/binding/wasm.cc native/binding/wasm_threads.cc $(ls native/kernels/*.cc | grep -v '/threads\.cc$'))
printf '%s\n' "${SOURCES[@]}" | xargs -P 2 -I{} sh -c '"$0" "$@" -c {} -o "'"$OUT"'/$(basename {} .cc).o"' "$CLANG" "${FLAGS[@]}"
mkdir -p wasm
# a reactor (exports _initialize, which runs the static constructors), its memory growing up to 4 GB
"$CLANG" --target=wasm32-wasi -O3 -mexec-model=reactor -Wl,--max-memory=4294967296 -Wl,--strip-all \
  -o wasm/nabla.wasm.tmp "$OUT"/*.o -lc++ -lc++abi
mv wasm/nabla.wasm.tmp wasm/nabla.wasm
echo "build-wasm: wasm/nabla.wasm ($(wc -c < wasm/nabla.wasm) bytes, $("$CLANG" --version | head -1))"
