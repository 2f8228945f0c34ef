// Shared by every kernel source: the vector types, the code-generation attributes of the ISA variants and
// the runtime ISA dispatch. Kernel sources include no Node-API header and start no thread, so the same
// files build the Node-API addon and (later) a WebAssembly module.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

// Per-function code generation settings: no FMA contraction (kernels that must match js bit for bit), and
// no conversion of copy loops into memcpy calls (short rows, where the call costs more than the copy).
#if defined(__clang__)
#define NO_CONTRACT
#define NO_MEMCPY_IDIOM
#else
#define NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#define NO_MEMCPY_IDIOM __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

// Target attributes of the x86 variants; elsewhere (arm64) those variants compile as plain portable code
// and are never selected by the runtime dispatch.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define TARGET_AVX512
#define TARGET_AVX2
#endif

namespace nabla {

// 64-byte vectors (GCC vector extensions): one zmm register, two ymm or four xmm, as the ISA allows.
typedef float vf __attribute__((vector_size(64)));
typedef double vd __attribute__((vector_size(64)));

template <typename T>
struct Vec;
template <>
struct Vec<float> {
  typedef vf type;
  static constexpr int lanes = 16;
};
template <>
struct Vec<double> {
  typedef vd type;
  static constexpr int lanes = 8;
};

enum class Isa { kAvx512, kAvx2, kPortable };
// The kernel set chosen once at load (isa.cc): the CPU's widest, or a narrower one named by NABLA_ISA.
extern const Isa isa;
const char* IsaName(Isa i);

}  // namespace nabla

// Call NAME##Avx512 / NAME##Avx2 / NAME##Portable (void functions) for the ISA detected at load.
#define ISA_CALL(NAME, ...)                                         \
  do {                                                              \
    switch (::nabla::isa) {                                         \
      case ::nabla::Isa::kAvx512: NAME##Avx512(__VA_ARGS__); break; \
      case ::nabla::Isa::kAvx2: NAME##Avx2(__VA_ARGS__); break;     \
      default: NAME##Portable(__VA_ARGS__);                         \
    }                                                               \
  } while (0)

// Explicit instantiation of a kernel template for both element types (at the end of its source).
#define NABLA_FOR_FLOATS(X) X(float) X(double)
