/**
 * A small seeded PRNG (xorshift128+ on 32-bit halves is overkill here; sfc32 is fast, has a 128-bit state
 * and passes PractRand for our needs). Same seed, same sequence, on every platform.
 */
/** sfc32 takes its seed as one 32-bit word: larger seeds would alias smaller ones, so they are refused. */
export const MAX_SEED = 0xffff_ffff;

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.nextU32() % (hi - lo + 1));
  }
}
