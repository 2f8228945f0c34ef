import { surplus } from "../surplus.js"; // Seeded random numbers: a 32-bit PCG-XSH-RR generator, identical on every machine (integer arithmetic only).

/**
 * A random number generator with explicit state, like `torch.Generator`.
 * The same seed gives the same sequence everywhere. The default generator is reseeded by `manualSeed`.
 *
 * @example
 * const g = new nb.Generator(42); nb.rand([2, 2], { generator: g });
 */
export class Generator {
  private hi = 0; // state (64-bit, as two 32-bit halves)
  private lo = 0;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Reset the state from `seed` (any integer; only its low 53 bits matter). */
  manualSeed(seed: number): this {
    const s = Math.floor(Math.abs(seed));
    this.hi = Math.floor(s / 4294967296) >>> 0;
    this.lo = s >>> 0;
    this.spare = null;
    this.nextUint32();
    this.lo = (this.lo + 0x9e3779b9) >>> 0;
    this.nextUint32();
    return this;
  }

  /** The full state, to save in a checkpoint and restore with `setState`. */
  getState(): number[] {
    return [this.hi, this.lo, this.spare === null ? NaN : this.spare];
  }

  setState(state: readonly number[]): this {
    if (!Array.isArray(state) || state.length !== 3)
      throw new RangeError(`Generator.setState: expected 3 numbers, got ${JSON.stringify(state)?.slice(0, 60)}`);
    for (const i of [0, 1]) {
      if (!(Number.isInteger(state[i]) && state[i] >= 0 && state[i] < 2 ** 32)) {
        throw new RangeError(`Generator.setState: word ${i} must be an integer in [0, 2^32), got ${state[i]}`);
      }
    }
    if (!(Number.isNaN(state[2]) || Number.isFinite(state[2])))
      throw new RangeError(`Generator.setState: the spare normal must be a finite number or NaN, got ${state[2]}`);
    this.hi = state[0] >>> 0;
    this.lo = state[1] >>> 0;
    this.spare = Number.isNaN(state[2]) ? null : state[2];
    return this;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const oldHi = this.hi;
    const oldLo = this.lo;
    // state = state · 6364136223846793005 + 1442695040888963407 (mod 2^64), in 32-bit halves:
    // lo' = lo·mLo mod 2^32;  hi' = mulhi(lo, mLo) + lo·mHi + hi·mLo (mod 2^32); then add the increment.
    const mHi = 0x5851f42d,
      mLo = 0x4c957f2d;
    const a0 = oldLo & 0xffff,
      a1 = oldLo >>> 16,
      b0 = mLo & 0xffff,
      b1 = mLo >>> 16;
    const t = a0 * b0;
    const m1 = a1 * b0 + (t >>> 16);
    const m2 = a0 * b1 + (m1 & 0xffff);
    const mulhi = a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536);
    const lo = Math.imul(oldLo, mLo) >>> 0;
    const hi = (mulhi + Math.imul(oldLo, mHi) + Math.imul(oldHi, mLo)) >>> 0;
    const sumLo = lo + 0xf767814f;
    this.lo = sumLo >>> 0;
    this.hi = (hi + 0x14057b7e + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
    // Output: XSH-RR on the old state: rotr32(((old ^ (old >> 18)) >> 27) mod 2^32, old >> 59).
    const tHi = (oldHi ^ (oldHi >>> 18)) >>> 0;
    const tLo = (oldLo ^ ((oldLo >>> 18) | (oldHi << 14))) >>> 0;
    const x = ((tLo >>> 27) | (tHi << 5)) >>> 0;
    const rot = oldHi >>> 27;
    return ((x >>> rot) | (x << ((32 - rot) & 31))) >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal sample (Box–Muller on two 32-bit uniforms; pairs cached). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = (this.nextUint32() + 1) / 4294967296; // (0, 1]: log(u) is finite
    const v = this.nextUint32() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * v;
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** Uniform integer in [low, high). */
  randint(low: number, high: number): number {
    const span = high - low;
    if (span <= 0) throw new RangeError(`randint: empty range [${low}, ${high})`);
    return low + Math.floor(this.random() * span);
  }
}

/** The default generator used when no `generator` option is given. */
export const defaultGenerator = new Generator(0);

/** Seed the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): Generator {
  if (arguments.length > 1) surplus(arguments, "manualSeed(seed)");
  return defaultGenerator.manualSeed(seed);
}
