/** Promise: clipping twice is clipping once, bit for bit — a clipped output is within its bound. */

import { agc, clipByGlobalNorm, clipByNorm, clipByValue, GradientPipeline, type GradientTransform } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { copyGrads, finiteGrads, maxNorm, prove, sameGradBits } from './support/arbitraries.js';

/** Runs `make()` on the gradients, then a fresh `make()` on the result; both results must have the same bits. */
function twiceIsOnce(make: () => GradientTransform, grads: Record<string, Float32Array>, options = {}): boolean {
  const once = new GradientPipeline([make()]).step(copyGrads(grads), options).grads;
  const twice = new GradientPipeline([make()]).step(copyGrads(once), options).grads;
  return sameGradBits(once, twice);
}

describe('clipping twice equals clipping once, bit for bit', () => {
  it.each([1, 2, 3, 4.5, Infinity])('clipByGlobalNorm, normType %s', (p) => {
    prove(fc.property(finiteGrads, maxNorm, (grads, bound) => twiceIsOnce(() => clipByGlobalNorm({ maxNorm: bound, normType: p }), grads)));
  });

  it.each([1, 2, 3, Infinity])('clipByNorm, normType %s', (p) => {
    prove(fc.property(finiteGrads, maxNorm, (grads, bound) => twiceIsOnce(() => clipByNorm({ maxNorm: bound, normType: p }), grads)));
  });

  it('clipByValue', () => {
    const interval = fc
      .tuple(fc.double({ min: -1e30, max: 1e30, noNaN: true }), fc.double({ min: 0, max: 1e30, noNaN: true }))
      .map(([min, width]) => ({ min, max: min + width }));
    prove(fc.property(finiteGrads, interval, (grads, bounds) => twiceIsOnce(() => clipByValue(bounds), grads)));
  });

  it('agc', () => {
    const layer = fc.record({
      grad: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 6, maxLength: 6 }),
      param: fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 }),
      axis: fc.constantFrom('first' as const, 'last' as const),
    });
    prove(
      fc.property(layer, ({ grad, param, axis }) =>
        twiceIsOnce(
          () => agc({ clipping: 0.05, unitAxis: axis }),
          { w: Float32Array.from(grad) },
          {
            params: { w: Float32Array.from(param) },
            shapes: { w: axis === 'first' ? [2, 3] : [3, 2] },
          },
        ),
      ),
    );
  });
});
