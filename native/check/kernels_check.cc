// The kernels alone, checked against float64 loops: GEMM with every transpose, and the three convolution
// passes on each path (direct, Winograd at several map widths, im2col, 5×5 direct). For builds the test
// suite cannot load, such as arm64 through a cross compiler and qemu (scripts/check-arm64.sh); linked with
// the kernel sources (native/kernels/*.cc), no Node-API. Exits non-zero on a mismatch.
#include <cstdio>
#include <random>

#include "../kernels/gemm.h"
#include "../kernels/kernels.h"

using namespace nabla;

static double rel(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0, e = 0; for (size_t i = 0; i < a.size(); i++) { m = std::max(m, std::fabs(b[i])); e = std::max(e, std::fabs(a[i] - b[i])); }
  return e / (m > 0 ? m : 1);
}
int main() {
  StartThreads(2);
  std::mt19937 rng(1); std::uniform_real_distribution<float> U(-1, 1);
  int bad = 0;
  auto fill = [&](std::vector<float>& v) { for (auto& x : v) x = U(rng); };
  // GEMM, all transposes, odd sizes
  for (int ta = 0; ta < 2; ta++) for (int tb = 0; tb < 2; tb++) {
    int m = 37, k = 53, n = 71;
    std::vector<float> a(m * k), b(k * n), c(m * n); fill(a); fill(b);
    Gemm1(a.data(), ta, b.data(), tb, c.data(), m, k, n);
    std::vector<double> r(m * n);
    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) { double s = 0; for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]); r[i * n + j] = s; }
    double e = rel(c, r); printf("gemm ta=%d tb=%d rel err %.2e\n", ta, tb, e); bad += !(e < 2e-6);
  }
  // convolutions: {n, c, h, w, o, k, stride, pad}: direct (few channels), Winograd (3x3 s1, many), im2col (stride 2)
  int cases[][8] = {{3, 4, 11, 9, 16, 3, 1, 1}, {2, 36, 10, 10, 36, 3, 1, 1}, {3, 36, 4, 4, 36, 3, 1, 1}, {2, 36, 7, 8, 40, 3, 1, 1},
                    {32, 36, 13, 15, 36, 3, 1, 1}, {8, 40, 32, 32, 48, 3, 1, 1}, {2, 16, 9, 9, 24, 3, 2, 1}, {2, 6, 12, 12, 16, 5, 1, 2}};
  // each case in both precisions: "ieee" within 2e-6 of float64, "fast" (F(4×4, 3×3) Winograd) within 2e-5
  for (int fast = 0; fast < 2; fast++)
  for (auto& q : cases) {
    int N = q[0], C = q[1], H = q[2], W = q[3], O = q[4], K = q[5], S = q[6], P = q[7];
    int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    ConvGeom cg{Geom{N, C, H, W, K, K, S, S, P, P, 1, 1, OH, OW}, O, 1, fast != 0};
    std::vector<float> x((size_t)N * C * H * W), w((size_t)O * C * K * K), y((size_t)N * O * OH * OW), gy(y.size()), gx(x.size()), gw(w.size());
    fill(x); fill(w); fill(gy);
    const int a1 = (int)ConvForward(x.data(), w.data(), cg, y.data(), (const float*)nullptr);
    const int a2 = (int)ConvBackwardInput(gy.data(), w.data(), cg, gx.data());
    const int a3 = (int)ConvBackwardWeight(x.data(), gy.data(), cg, gw.data());
    std::vector<double> ry(y.size(), 0), rgx(x.size(), 0), rgw(w.size(), 0);
    for (int n = 0; n < N; n++) for (int o = 0; o < O; o++) for (int oy = 0; oy < OH; oy++) for (int ox = 0; ox < OW; ox++)
      for (int c = 0; c < C; c++) for (int ky = 0; ky < K; ky++) for (int kx = 0; kx < K; kx++) {
        int iy = oy * S - P + ky, ix = ox * S - P + kx; if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
        size_t xi = (((size_t)n * C + c) * H + iy) * W + ix, wi = (((size_t)o * C + c) * K + ky) * K + kx, yi = (((size_t)n * O + o) * OH + oy) * OW + ox;
        ry[yi] += (double)x[xi] * w[wi]; rgx[xi] += (double)gy[yi] * w[wi]; rgw[wi] += (double)gy[yi] * x[xi];
      }
    double e1 = rel(y, ry), e2 = rel(gx, rgx), e3 = rel(gw, rgw);
    const double tol = fast ? 2e-5 : 2e-6;
    // algorithms (ConvAlgo): 0 im2col, 1 direct, 2 Winograd F(2×2), 3 Winograd F(4×4)
    printf("conv %s N%d C%d %dx%d O%d k%d s%d p%d (algorithms %d %d %d): forward %.2e, input grad %.2e, weight grad %.2e\n", fast ? "fast" : "ieee", N,
           C, H, W, O, K, S, P, a1, a2, a3, e1, e2, e3);
    bad += !(e1 < tol && e2 < tol && e3 < tol);
  }
  printf(bad ? "FAILED %d\n" : "all within their bounds of the float64 result\n", bad);
  return bad != 0;
}
