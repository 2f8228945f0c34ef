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
mkdir -p wasm
# build NAME EXTRA_CFLAGS LINK_FLAGS: every source compiled with the extra flags, linked as a reactor
# (it exports _initialize, which runs the static constructors) into wasm/NAME.wasm
build() {
  local name="$1" cflags="$2" lflags="$3" dir="$OUT/$1"
  mkdir -p "$dir"
  printf '%s\n' "${SOURCES[@]}" | xargs -P 2 -I{} sh -c '"$0" "$@" -c {} -o "'"$dir"'/$(basename {} .cc).o"' "$CLANG" "${FLAGS[@]}" $cflags
  # shellcheck disable=SC2086
  "$CLANG" --target=wasm32-wasi -O3 -mexec-model=reactor -Wl,--strip-all $lflags -o "wasm/$name.wasm.tmp" "$dir"/*.o -lc++ -lc++abi
  mv "wasm/$name.wasm.tmp" "wasm/$name.wasm"
  echo "build-wasm: wasm/$name.wasm ($(wc -c < "wasm/$name.wasm") bytes, $("$CLANG" --version | head -1))"
}
# one thread: its own memory, growing up to 4 GB
build nabla "" "-Wl,--max-memory=4294967296"
# threads: atomics, and a shared memory of 16 MB growing up to 4 GB that the JS side creates and passes to
# every instance (src/backend/wasm/threads.ts has the same sizes); __stack_pointer exported so that each
# worker's instance gets its own stack; malloc and friends wrapped with a lock (wasm_threads.cc). wasi-libc
# is built without atomics, so the feature check is off: its code is single-threaded under that lock.
build nabla-threads "-matomics -mbulk-memory" "-Wl,--shared-memory,--import-memory,--initial-memory=16777216,--max-memory=4294967296 \
-Wl,--no-check-features,--export=__stack_pointer -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc,--wrap=posix_memalign"
