/**
 * Promise: finite input never yields NaN or ±Infinity, in any transform — not in the gradients, not in the
 * figures — even when tiny (1e-38) and huge (3.4e38) values meet in one step.
 */

import { adaptiveClip, agc, clipByGlobalNorm, clipByNorm, clipByValue, GradientPipeline, nanGuard } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allFinite, copyGrads, extremeFloat32, finiteGrads, MAX_FLOAT32, norm64, prove } from './support/arbitraries.js';
import { anyTransform, paramsLike } from './support/transforms.js';

/** Finite values spanning 1e-38 … 3.4e38, always with a tiny and a huge one in the same step. */
const mixedMagnitudes = fc
  .tuple(finiteGrads, extremeFloat32, extremeFloat32)
  .map(([grads, a, b]) => ({ ...grads, tiny: Float32Array.from([1e-38, -1e-30, a]), huge: Float32Array.from([MAX_FLOAT32, -1e20, b]) }));

function figuresAreFinite(stats: {
  normBefore: number;
  normAfter: number;
  threshold?: number;
  transforms: readonly { figures: Readonly<Record<string, number>> }[];
}): boolean {
  return (
    Number.isFinite(stats.normBefore) &&
    Number.isFinite(stats.normAfter) &&
    (stats.threshold === undefined || Number.isFinite(stats.threshold)) &&
    // A zscore threshold during warm-up with no cap is +Infinity by design ("no bound yet"); every other figure is finite.
    stats.transforms.every((t) => Object.entries(t.figures).every(([k, v]) => Number.isFinite(v) || (k === 'threshold' && v === Infinity)))
  );
}

describe('finite gradients never produce NaN or ±Infinity', () => {
  it('any transform, over a run of steps with magnitudes from 1e-38 to 3.4e38', () => {
    prove(
      fc.property(anyTransform(), fc.array(fc.oneof(finiteGrads, mixedMagnitudes), { minLength: 1, maxLength: 6 }), ({ make }, steps) => {
        const pipe = new GradientPipeline([make()]);
        for (const grads of steps) {
          const { grads: out, stats, skipped } = pipe.step(copyGrads(grads), { params: paramsLike(grads) });
          expect(skipped).toBe(false);
          expect(stats.nonFinite).toEqual([]);
          expect(allFinite(out)).toBe(true);
          expect(figuresAreFinite(stats)).toBe(true);
        }
      }),
    );
  });

  it('a full chain of every transform, on mixed magnitudes', () => {
    prove(
      fc.property(fc.array(mixedMagnitudes, { minLength: 1, maxLength: 4 }), (steps) => {
        const pipe = new GradientPipeline([
          nanGuard({ policy: 'throw' }),
          agc({ clipping: 0.01 }),
          clipByValue({ min: -1e30, max: 1e30 }),
          clipByNorm({ maxNorm: 1e10, normType: 3 }),
          adaptiveClip({ method: 'percentile', percentile: 50, window: 3 }),
          adaptiveClip({ method: 'zscore', warmupSteps: 1, maxNorm: 1e6 }),
          clipByGlobalNorm({ maxNorm: 1, normType: Infinity }),
          clipByGlobalNorm({ maxNorm: 1 }),
        ]);
        for (const grads of steps) {
          const { grads: out, stats } = pipe.step(copyGrads(grads), { params: paramsLike(grads) });
          expect(allFinite(out)).toBe(true);
          expect(figuresAreFinite(stats)).toBe(true);
          expect(norm64(Object.values(out), 2)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('the norms are measured without overflow or underflow, whatever the magnitudes', () => {
    prove(
      fc.property(mixedMagnitudes, (grads) => {
        const { stats } = new GradientPipeline([]).step(copyGrads(grads));
        const expected = norm64(Object.values(grads), 2);
        return Math.abs(stats.normBefore - expected) <= expected * 1e-12;
      }),
    );
  });
});
