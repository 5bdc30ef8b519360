import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { describe, expect, test } from 'vitest';
import { makeRegression, permutation } from '../src/index.js';

describe('makeRegression', () => {
  test('is seeded: the same seed gives the same data, another seed other data', () => {
    const a = makeRegression({ seed: 7 });
    expect(makeRegression({ seed: 7 })).toEqual(a);
    expect(makeRegression({ seed: 8 }).y).not.toEqual(a.y);
    expect(a.x).toHaveLength(1000 * 20);
    expect(a.y).toHaveLength(1000);
  });

  test('y = x·coef + N(0, noise²), with 10 informative coefficients in [0, 100) at shuffled columns', () => {
    const { x, y, coef } = makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed: 1 });
    const informative = [...coef.keys()].filter((j) => coef[j] !== 0);
    expect(informative).toHaveLength(10);
    expect(informative).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // the feature shuffle moved them
    for (const j of informative) {
      expect(coef[j]!).toBeGreaterThan(0);
      expect(coef[j]!).toBeLessThan(100);
    }
    const residuals = Array.from(y, (target, i) => target - x.subarray(i * 20, (i + 1) * 20).reduce((s, v, j) => s + v * coef[j]!, 0));
    const mean = residuals.reduce((a, b) => a + b) / residuals.length;
    const sd = Math.sqrt(residuals.reduce((a, r) => a + (r - mean) ** 2, 0) / residuals.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(sd).toBeGreaterThan(0.09);
    expect(sd).toBeLessThan(0.11);
  });

  test('least squares on the data alone recovers the coefficients', () => {
    const { x, y, coef } = makeRegression({ seed: 3 });
    const fitted = leastSquares(x, y, 1000, 20);
    fitted.forEach((c, j) => expect(Math.abs(c - coef[j]!)).toBeLessThan(0.05));
  });

  test('the inputs are standard normal', () => {
    const { x } = makeRegression({ samples: 2000, seed: 5 });
    const mean = x.reduce((a, b) => a + b) / x.length;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  test('bad options are named in the error', () => {
    expect(() => makeRegression({ samples: 0 })).toThrow('makeRegression: samples must be a positive integer, got 0');
    expect(() => makeRegression({ features: 2.5 })).toThrow('makeRegression: features must be a positive integer, got 2.5');
    expect(() => makeRegression({ informative: 21 })).toThrow(
      'makeRegression: informative must be an integer in [0, features = 20], got 21',
    );
    expect(() => makeRegression({ noise: -1 })).toThrow('makeRegression: noise must be a finite number ≥ 0, got -1');
    expect(() => makeRegression({ seed: Number.NaN })).toThrow('makeRegression: seed must be an integer, got NaN');
  });
});

describe('permutation', () => {
  test('is a permutation of 0…n−1 and is seeded', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, seed) => {
        const p = permutation(n, xoroshiro128plus(seed));
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(permutation(n, xoroshiro128plus(seed))).toEqual(p);
      }),
      { seed: 42, numRuns: 100 },
    );
  });
});

/** Normal equations solved by Gaussian elimination (d unknowns). */
function leastSquares(x: Float32Array, y: Float32Array, n: number, d: number): number[] {
  const a = Array.from({ length: d }, () => new Array<number>(d + 1).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < d; k++) a[j]![k]! += x[i * d + j]! * x[i * d + k]!;
      a[j]![d]! += x[i * d + j]! * y[i]!;
    }
  }
  for (let c = 0; c < d; c++) {
    for (let r = c + 1; r < d; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= d; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  const out = new Array<number>(d).fill(0);
  for (let r = d - 1; r >= 0; r--) {
    let s = a[r]![d]!;
    for (let k = r + 1; k < d; k++) s -= a[r]![k]! * out[k]!;
    out[r] = s / a[r]![r]!;
  }
  return out;
}
