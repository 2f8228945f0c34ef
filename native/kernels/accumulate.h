// Double sums in 8 partial lanes (batchnorm.cc, reduce.cc).
#pragma once

#include <cstdint>
#include <cstring>

namespace nabla {

// Sums kept in 8 partial lanes: a plain double loop is one chain of dependent adds (about 4 cycles each);
// 8 independent lanes pipeline and vectorize. The lanes are added pairwise at the end.
typedef double d8 __attribute__((vector_size(64)));
struct Sum8 {
  d8 a = d8{};
  double Total() const { return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])); }
};

// 8 consecutive elements as doubles: one vector load and one conversion (written lane by lane, the sums
// were compiled to 8 scalar loads and inserts per step).
template <typename T>
inline __attribute__((always_inline)) d8 Load8(const T* p) {
  typedef T t8 __attribute__((vector_size(8 * sizeof(T))));
  t8 v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_convertvector(v, d8);
}

// s += f(p[i]) over a contiguous run, element i in lane i mod 8.
template <typename T, typename F>
inline __attribute__((always_inline)) void Accumulate(Sum8& s, const T* __restrict p, int64_t len, F f) {
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) s.a += f(Load8(p + i));
  for (int j = 0; i < len; i++, j++) s.a[j] += f((double)p[i]);
}

}  // namespace nabla
