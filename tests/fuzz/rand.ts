/**
 * The fuzzer's random source: the project's own seeded PRNG (src/util/prng.ts) with the choices a
 * generator needs. Every input gets its own stream, derived from the run's seed and the input's index, so
 * one input can be regenerated on its own (to print it, or to replay it with KLPSIM_FUZZ_ONLY).
 */
import { Prng } from '../../src/util/prng';

/** A 32-bit mix of (seed, index) (murmur3's finaliser), so neighbouring indexes get unrelated streams. */
function mix(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rand {
  private readonly prng: Prng;

  constructor(seed: number, index = 0) {
    this.prng = new Prng(mix(seed, index));
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return this.prng.int(lo, hi);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.prng.nextU32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rand.pick: nothing to pick from');
    return items[this.int(0, items.length - 1)];
  }

  /** One of `choices`, each with its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = (this.prng.nextU32() / 0x1_0000_0000) * total;
    for (const [w, v] of choices) {
      if (r < w) return v;
      r -= w;
    }
    return choices[choices.length - 1][1];
  }

  /** A string of `n` characters drawn from `alphabet`. */
  chars(alphabet: string, n: number): string {
    const cs = [...alphabet];
    let s = '';
    for (let i = 0; i < n; i++) s += this.pick(cs);
    return s;
  }

  /** A small count, skewed towards 0 and 1 (the interesting ones). */
  small(max = 6): number {
    return this.chance(0.5) ? this.int(0, 1) : this.int(0, max);
  }
}
