// Seeded fault decisions. Each behaviour draws from its own stream, derived from the run's seed and the
// behaviour's name, so turning one behaviour off or adding one does not shift the decisions of the
// others. Calls that arrive in the same order get the same decisions; concurrent calls may arrive in
// another order from run to run, so a seed repeats the faults, not always the exact call they hit.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

const nameHash = (name: string): number => {
  // FNV-1a: a stable 32-bit hash of the behaviour's name.
  let hash = 0x811c9dc5;
  for (const char of Buffer.from(name, 'utf8')) {
    hash ^= char;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
};

export class FaultRandom {
  private readonly streams = new Map<string, RandomGenerator>();

  constructor(readonly seed: number) {}

  private stream(name: string): RandomGenerator {
    let rng = this.streams.get(name);
    if (!rng) this.streams.set(name, (rng = xoroshiro128plus((this.seed ^ nameHash(name)) >>> 0)));
    return rng;
  }

  /** A number in [0, 1) from the behaviour's stream. */
  next(name: string): number {
    return unsafeUniformIntDistribution(0, 0x3fffffff, this.stream(name)) / 0x40000000;
  }

  /** True with probability `rate`. */
  chance(name: string, rate: number): boolean {
    return rate > 0 && this.next(name) < rate;
  }

  /** An integer in [min, max]. */
  between(name: string, min: number, max: number): number {
    return min + Math.floor(this.next(name) * (max - min + 1));
  }
}
