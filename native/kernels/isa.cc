// Runtime ISA detection: the widest kernel set this CPU runs, or a narrower one named by NABLA_ISA.
#include <cstdio>

#include "base.h"

namespace nabla {

const char* IsaName(Isa i) { return i == Isa::kAvx512 ? "avx512" : i == Isa::kAvx2 ? "avx2" : "portable"; }

// NABLA_ISA (avx512, avx2, portable) selects a narrower set, so the AVX2 and portable kernels can be
// tested on an AVX-512 machine. A set the CPU lacks is not taken.
static Isa DetectIsa() {
  Isa best = Isa::kPortable;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) best = Isa::kAvx512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::kAvx2;
#endif
  const char* e = getenv("NABLA_ISA");
  if (!e || !*e) return best;
  for (Isa i : {Isa::kAvx512, Isa::kAvx2, Isa::kPortable}) {
    if (strcmp(e, IsaName(i)) != 0) continue;
    if (i < best) {
      fprintf(stderr, "nabla: NABLA_ISA=%s is not supported by this CPU; using %s\n", e, IsaName(best));
      return best;
    }
    return i;
  }
  fprintf(stderr, "nabla: NABLA_ISA=%s is not one of avx512, avx2, portable; using %s\n", e, IsaName(best));
  return best;
}

const Isa isa = DetectIsa();

}  // namespace nabla
