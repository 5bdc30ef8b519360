/**
 * A seeded uniform generator in [0, 1) (a 32-bit linear congruential generator): the benchmarks need inputs that
 * are the same on every run, not statistical quality.
 *
 * @example
 * ```ts
 * const random = uniformRandom(2024);
 * const values = Float32Array.from({ length: 4 }, () => random() * 2 - 1); // uniform in [-1, 1)
 * ```
 */
export function uniformRandom(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
