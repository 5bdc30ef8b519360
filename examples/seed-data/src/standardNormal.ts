import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * One N(0, 1) draw by the Box–Muller transform of two uniform draws (pure-rand has uniform distributions only).
 *
 * @example
 * ```ts
 * import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
 * const rng = xoroshiro128plus(1);
 * standardNormal(rng); // the same number on every machine
 * ```
 */
export function standardNormal(rng: RandomGenerator): number {
  // 1 − u is in (0, 1]: the logarithm stays finite.
  const radius = Math.sqrt(-2 * Math.log(1 - uniformFloat64(rng)));
  return radius * Math.cos(2 * Math.PI * uniformFloat64(rng));
}
