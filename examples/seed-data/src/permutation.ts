import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * A uniformly random permutation of 0…n−1 (Fisher–Yates, as NumPy's `shuffle`), drawn from `rng`.
 *
 * @example
 * ```ts
 * import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
 * const order = permutation(1000, xoroshiro128plus(1)); // e.g. a new sample order each epoch
 * ```
 */
export function permutation(n: number, rng: RandomGenerator): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
