/**
 * Promise: norm clipping preserves the direction — the output is c·input with one common factor c in (0, 1]
 * (one per step for the global norm and the adaptive clips, one per tensor for clipByNorm), up to float32 rounding
 * of each product.
 */

import { adaptiveClip, clipByGlobalNorm, clipByNorm, GradientPipeline } from '@gradpipe/core';
import { float32Factor } from '@gradpipe/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyGrads, finiteGrads, maxNorm, otherP, prove } from './support/arbitraries.js';

/**
 * True when `output` = c·`input` for one c in (0, 1], within float32 rounding: c is read off the input's largest
 * element (ratio in float64) and every other element must match c·x within 2⁻²² relative (two roundings of 2⁻²⁴)
 * plus 2⁻¹⁴⁹ absolute (the spacing of subnormal float32 values).
 */
function isCommonMultiple(input: readonly Float32Array[], output: readonly Float32Array[]): boolean {
  let best = { t: 0, i: 0, abs: 0 };
  input.forEach((t, ti) =>
    t.forEach((v, i) => {
      if (Math.abs(v) > best.abs) best = { t: ti, i, abs: Math.abs(v) };
    }),
  );
  if (best.abs === 0) return output.every((t, ti) => t.every((v, i) => Object.is(v, input[ti]![i]))); // all zeros stay as they are
  const c = output[best.t]![best.i]! / input[best.t]![best.i]!;
  if (!(c > 0 && c <= 1)) return false;
  return input.every((t, ti) => t.every((x, i) => Math.abs(output[ti]![i]! - c * x) <= 2 ** -22 * Math.abs(c * x) + 2 ** -149));
}

describe('clipByGlobalNorm scales every tensor by one common factor c in (0, 1]', () => {
  it.each([1, 2, 3, Infinity])('normType %s, seen from outside (ratios in float64)', (p) => {
    prove(
      fc.property(finiteGrads, maxNorm, (grads, bound) => {
        const input = Object.values(copyGrads(grads));
        const output = Object.values(
          new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads)).grads,
        );
        return isCommonMultiple(input, output);
      }),
    );
  });

  it('any p, exactly: every stored value is fround(x · c), c the float32 at or just below the factor it reports', () => {
    prove(
      fc.property(finiteGrads, maxNorm, fc.oneof(fc.constantFrom(1, 2, 3, Infinity), otherP), (grads, bound, p) => {
        const { grads: out, stats } = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        const factor = stats.transforms[0]!.figures.factor!;
        expect(factor).toBeGreaterThan(0);
        expect(factor).toBeLessThanOrEqual(1);
        expect(factor < 1).toBe(stats.clipped);
        for (const [name, t] of Object.entries(grads)) {
          expect(out[name]).toEqual(t.map((x) => Math.fround(x * (float32Factor(factor) ?? factor))));
        }
      }),
    );
  });
});

describe('clipByNorm scales each tensor by its own factor in (0, 1]', () => {
  it.each([1, 2, 3, Infinity])('normType %s', (p) => {
    prove(
      fc.property(finiteGrads, maxNorm, (grads, bound) => {
        const input = copyGrads(grads);
        const output = new GradientPipeline([clipByNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads)).grads;
        return Object.keys(input).every((k) => isCommonMultiple([input[k]!], [output[k]!]));
      }),
    );
  });
});

// A learnt threshold can be 0 (every earlier norm was 0): then the output is 0 by definition, not a multiple in
// (0, 1]. So is a threshold so small that the output is all float32 subnormals. Those steps are left out.
describe('adaptiveClip scales every tensor by one common factor in (0, 1] whenever its threshold is ≥ 1e-30', () => {
  const history = fc.array(finiteGrads, { minLength: 1, maxLength: 6 });
  it.each([
    { label: 'percentile', make: () => adaptiveClip({ method: 'percentile', percentile: 30 }) },
    { label: 'zscore', make: () => adaptiveClip({ method: 'zscore', warmupSteps: 2, zThreshold: 1, maxNorm: 1e20 }) },
  ])('$label, on every step of a run', ({ make }) => {
    prove(
      fc.property(history, (steps) => {
        const pipe = new GradientPipeline([make()]);
        return steps.every((grads) => {
          const input = Object.values(copyGrads(grads));
          const { grads: out, stats } = pipe.step(copyGrads(grads));
          return !(stats.threshold! >= 1e-30) || isCommonMultiple(input, Object.values(out));
        });
      }),
    );
  });
});
