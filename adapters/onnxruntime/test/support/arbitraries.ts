// fast-check arbitraries for operator cases: shapes that broadcast, values away from kinks.
import fc from 'fast-check';

/** A shape of rank [minRank, maxRank] with dims in [1, maxDim]. */
export const shapeArb = (minRank: number, maxRank: number, maxDim = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** Two shapes that broadcast together: the second is a suffix of the first with some dims set to 1, or the other way round. */
export const broadcastPairArb: fc.Arbitrary<[number[], number[]]> = shapeArb(0, 3).chain((full) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: full.length }),
      fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      fc.boolean(),
    )
    .map(([drop, ones, swap]) => {
      const other = full.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
      return (swap ? [other, full] : [full, other]) as [number[], number[]];
    }),
);

/** Seeds for the values and directions of a case. */
export const seedArb = fc.integer({ min: 1, max: 2 ** 31 - 1 });

/** n values of at least `margin` in absolute value (kinks at 0 stay out of reach of the differences). */
export function awayFromZero(n: number, seed: number, margin = 0.1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    const magnitude = margin + 2 * Math.abs(u - 0.5) * 2;
    return u < 0.5 ? -magnitude : magnitude;
  });
}

/** n values in [lo, hi]. */
export function uniformValues(n: number, seed: number, lo: number, hi: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** n distinct values (a shuffled grid with spacing `spacing`), so that max/min have no ties. */
export function distinctValues(n: number, seed: number, spacing = 0.1): number[] {
  const grid = Array.from({ length: n }, (_, i) => (i - n / 2) * spacing);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [grid[i], grid[j]] = [grid[j]!, grid[i]!];
  }
  return grid;
}

export const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
