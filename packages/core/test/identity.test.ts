/**
 * Promise: gradients already within the bound come out bit-identical (same bits, same arrays), and nothing is
 * reported as clipped.
 */

import { agc, clipByGlobalNorm, clipByNorm, clipByValue, GradientPipeline, nanGuard } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyGrads, finiteGrads, norm64, prove, sameGradBits } from './support/arbitraries.js';

/**
 * A bound at or above the norm: the norm times 1 + m with m from 1e-9 to 10 (1e-9 is far above the 1e-15
 * rounding of a float64 norm, so "within the bound" is unambiguous). A zero norm gets any positive bound.
 */
const headroom = fc.double({ min: 1e-9, max: 10, noNaN: true });
const boundAbove = (norm: number, m: number) => (norm > 0 ? norm * (1 + m) : m);

describe('gradients within the bound are returned bit-identical', () => {
  it.each([1, 2, 3, Infinity])('clipByGlobalNorm, normType %s', (p) => {
    prove(
      fc.property(finiteGrads, headroom, (grads, m) => {
        const bound = boundAbove(norm64(Object.values(grads), p), m);
        const input = copyGrads(grads);
        const { grads: out, stats } = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step(input);
        expect(stats.clipped).toBe(false);
        expect(Object.keys(out).every((k) => out[k] === input[k])).toBe(true); // the caller's own arrays
        return sameGradBits(out, grads);
      }),
    );
  });

  it.each([1, 2, 3, Infinity])('clipByNorm, normType %s (bound above the largest tensor norm)', (p) => {
    prove(
      fc.property(finiteGrads, headroom, (grads, m) => {
        const bound = boundAbove(Math.max(...Object.values(grads).map((t) => norm64([t], p))), m);
        const { grads: out, stats } = new GradientPipeline([clipByNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        expect(stats.clipped).toBe(false);
        return sameGradBits(out, grads);
      }),
    );
  });

  it('clipByNorm leaves the tensors within the bound bit-identical even when it clips others', () => {
    prove(
      fc.property(finiteGrads, fc.double({ min: 1e-30, max: 1e30, noNaN: true }), (grads, bound) => {
        const { grads: out } = new GradientPipeline([clipByNorm({ maxNorm: bound })]).step(copyGrads(grads));
        return Object.keys(grads).every(
          (k) => norm64([grads[k]!], 2) >= bound * (1 - 1e-12) || sameGradBits({ k: out[k]! }, { k: grads[k]! }),
        );
      }),
    );
  });

  it('clipByValue, when every element is already in [min, max]', () => {
    prove(
      fc.property(
        finiteGrads,
        fc.double({ min: 0, max: 1e38, noNaN: true }),
        fc.double({ min: 0, max: 1e38, noNaN: true }),
        (grads, below, above) => {
          const values = Object.values(grads).flatMap((t) => Array.from(t));
          const min = Math.min(0, ...values) - below;
          const max = Math.max(0, ...values) + above;
          const { grads: out, stats } = new GradientPipeline([clipByValue({ min, max })]).step(copyGrads(grads));
          expect(stats.clipped).toBe(false);
          return sameGradBits(out, grads);
        },
      ),
    );
  });

  it('agc, when every unit is within its limit', () => {
    prove(
      fc.property(
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 }),
        (g, w) => {
          const grad = Float32Array.from(g);
          const param = Float32Array.from(w);
          const rows = [0, 1, 2].map(
            (u) => norm64([grad.subarray(u * 2, u * 2 + 2)], 2) / Math.max(norm64([param.subarray(u * 2, u * 2 + 2)], 2), 1e-3),
          );
          const clipping = Math.max(...rows) * 1.001 + 1e-6; // a λ above every unit's ratio
          const { grads: out, stats } = new GradientPipeline([agc({ clipping, unitAxis: 'first' })]).step(
            { w: Float32Array.from(grad) },
            { params: { w: param }, shapes: { w: [3, 2] } },
          );
          expect(stats.clipped).toBe(false);
          return sameGradBits(out, { w: grad });
        },
      ),
    );
  });

  it('a whole chain (nanGuard, clipByValue, clipByNorm, clipByGlobalNorm) with generous bounds', () => {
    prove(
      fc.property(finiteGrads, (grads) => {
        const pipe = new GradientPipeline([
          nanGuard({ policy: 'zero' }),
          clipByValue({ min: -3.5e38, max: 3.5e38 }),
          clipByNorm({ maxNorm: 1e39 }),
          clipByGlobalNorm({ maxNorm: 1e40 }),
        ]);
        const { grads: out, stats } = pipe.step(copyGrads(grads));
        expect(stats.clipped).toBe(false);
        expect(stats.skipped).toBe(false);
        return sameGradBits(out, grads);
      }),
    );
  });
});
