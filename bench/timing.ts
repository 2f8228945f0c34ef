// The timing rules of the benches, shared by bench/native.ts (Node) and the browser example's bench mode
// (examples/browser/bench.ts, in Chromium), so both sides of a comparison are timed alike.

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median time in seconds of `reps` calls, without a warm-up. */
export function medianTime(fn: () => void, reps: number): number {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

/** Median time of `reps` calls after a warm-up of at least 2 calls and 0.5 s (the JIT, the allocator and
 * the caches reach their steady state; a training run takes thousands of steps). PyTorch gets the same rule. */
export function timeIt(fn: () => void, reps: number): number {
  for (let i = 0, t0 = performance.now(); i < 2 || performance.now() - t0 < 500; i++) fn();
  return medianTime(fn, reps);
}

/** GEMM timing, the same rule as the Python side: 0.2 s of warm-up, then the median of at least 5 calls and 0.3 s. */
export function timeGemm(fn: () => void): number {
  for (const t0 = performance.now(); performance.now() - t0 < 200;) fn();
  const ts: number[] = [];
  while (ts.length < 5 || ts.reduce((a, b) => a + b, 0) < 0.3) {
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

/**
 * Median seconds per call of each function, timed in turn, by timeGemm's rule for each (0.2 s of warm-up,
 * then at least 5 timed calls and 0.3 s): a slow spell of a shared machine falls on all of them alike, so
 * their ratio holds where separate runs would each catch a different spell. Each turn makes one untimed
 * call before the timed one, as back-to-back calls would find the thread pool awake.
 */
export function timeInTurn(fns: readonly (() => void)[]): number[] {
  for (const t0 = performance.now(); performance.now() - t0 < 200 * fns.length;) for (const fn of fns) fn();
  const ts = fns.map(() => [] as number[]);
  const enough = () => ts.every((t) => t.length >= 5 && t.reduce((a, b) => a + b, 0) >= 0.3);
  while (!enough()) {
    fns.forEach((fn, i) => {
      fn(); // untimed: a thread pool's workers, asleep since this function's last turn, are awake again
      const t0 = performance.now();
      fn();
      ts[i].push((performance.now() - t0) / 1000);
    });
  }
  return ts.map(median);
}

/** The slice of nabla's API gemmRates calls (Node's and the page's nabla are distinct imports). */
interface GemmApi<T> {
  randn(shape: number[]): T;
  zeros(shape: number[]): T;
  matmul(a: T, b: T, opts?: { out?: T }): T;
  backend: { setBackend(name: string): unknown; getBackend(): { name: string } };
}

/**
 * float32 GEMM in GFLOP/s at each size, on each of `backends` (timed in turn: timeInTurn), per size a list
 * in the order of `backends`: `fresh`, the product in a new array each call (what `nb.matmul(a, b)` costs,
 * its output's first writes included), and `out`, into one reused tensor (`nb.matmul(a, b, { out })`, the
 * convention of BLAS benchmarks and of the peers' figures).
 */
export function gemmRates<T>(
  nb: GemmApi<T>,
  sizes: readonly number[],
  backends: readonly string[],
): { fresh: Record<number, number[]>; out: Record<number, number[]> } {
  const fresh: Record<number, number[]> = {},
    out: Record<number, number[]> = {};
  const was = nb.backend.getBackend().name;
  try {
    for (const n of sizes) {
      const [a, b, c] = [nb.randn([n, n]), nb.randn([n, n]), nb.zeros([n, n])];
      const rate = (s: number) => (2 * n ** 3) / s / 1e9;
      const on = (name: string, fn: () => unknown) => () => {
        nb.backend.setBackend(name);
        fn();
      };
      fresh[n] = timeInTurn(backends.map((k) => on(k, () => nb.matmul(a, b)))).map(rate);
      out[n] = timeInTurn(backends.map((k) => on(k, () => nb.matmul(a, b, { out: c })))).map(rate);
    }
  } finally {
    nb.backend.setBackend(was);
  }
  return { fresh, out };
}

/** timeIt's rule for a function whose result is awaited (onnxruntime's session.run). */
export async function timeItAsync(fn: () => unknown, reps: number): Promise<number> {
  for (let i = 0, t0 = performance.now(); i < 2 || performance.now() - t0 < 500; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

/**
 * µs to write a 256 KB float32 array (a GEMM 256's output) into a fresh allocation and into a reused one:
 * every kernel output is a fresh array, and an engine whose allocator hands back untouched pages (Chromium:
 * a page fault on each first write) pays the difference on each call. Medians of 40 batches of 10.
 */
export function freshOutputCost(): { fresh: number; reused: number } {
  const n = 65536,
    src = new Float32Array(n).fill(1),
    reused = new Float32Array(n);
  // batches of 10: a page's clock may tick in 5 µs steps (100 µs when not cross-origin isolated)
  const us = (fn: () => void) =>
    medianTime(() => {
      for (let i = 0; i < 10; i++) fn();
    }, 40) * 1e5;
  for (let i = 0; i < 50; i++) (new Float32Array(n).set(src), reused.set(src));
  return { fresh: us(() => new Float32Array(n).set(src)), reused: us(() => reused.set(src)) };
}
