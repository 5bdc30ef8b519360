import { describe, expect, test } from 'vitest';
import { checkExport } from '../src/checkExport.js';
import { makeRegression } from '../src/makeRegression.js';
import { runExperiment } from '../src/runExperiment.js';

describe('the seed experiment through ONNX Runtime (50 epochs, batch 128)', () => {
  test('without clipping the loss diverges to NaN in the first epochs', async () => {
    const { firstNanEpoch, epochLosses, trainer } = await runExperiment({ run: 'none' });
    expect(firstNanEpoch).toBeDefined();
    expect(firstNanEpoch!).toBeLessThanOrEqual(2);
    expect(epochLosses.at(-1)).toBeNaN();
    await trainer.release();
  });

  test('with clipByGlobalNorm(1) it converges below 5, and the export predicts exactly like the trainer', async () => {
    const { firstNanEpoch, epochLosses, clippedSteps, trainer, data } = await runExperiment({ run: 'global' });
    expect(firstNanEpoch).toBeUndefined();
    expect(epochLosses).toHaveLength(50);
    expect(epochLosses.at(-1)!).toBeLessThan(5);
    expect(epochLosses.at(-1)!).toBeLessThan(epochLosses[0]! / 100);
    expect(clippedSteps).toBeGreaterThan(0);
    const { maxDifference, mse } = await checkExport(trainer, data);
    expect(maxDifference).toBeLessThanOrEqual(1e-5);
    expect(mse).toBeLessThan(5);
    await trainer.release();
  });

  test('clip by value keeps training finite', async () => {
    const { firstNanEpoch, trainer } = await runExperiment({ run: 'value' });
    expect(firstNanEpoch).toBeUndefined();
    await trainer.release();
  });
});

describe('makeRegression', () => {
  test('is seeded, and has 10 informative features out of 20', () => {
    const a = makeRegression({ seed: 7 });
    expect(makeRegression({ seed: 7 })).toEqual(a);
    expect(makeRegression({ seed: 8 }).y).not.toEqual(a.y);
    expect(a.x).toHaveLength(1000 * 20);
    // Least squares recovers the coefficients: exactly 10 are far from 0, all within [0, 100].
    const coef = leastSquares(a.x, a.y, 1000, 20);
    const informative = coef.filter((c) => Math.abs(c) > 1);
    expect(informative).toHaveLength(10);
    for (const c of informative) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThan(100);
    }
    for (const c of coef.filter((c) => Math.abs(c) <= 1)) expect(Math.abs(c)).toBeLessThan(0.05);
  });
});

/** Normal equations solved by Gaussian elimination (20 unknowns). */
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
