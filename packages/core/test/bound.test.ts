/**
 * Promise: after clipping, the float32 output's norm, computed in float64, is ≤ the bound — never above, with no
 * epsilon of slack. For the global norm (every normType), each tensor's norm (clipByNorm), every element
 * (clipByValue) and every unit (agc).
 */

import { agc, clipByGlobalNorm, clipByNorm, clipByValue, GradientPipeline } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyGrads, finiteGrads, finiteTensor, maxNorm, norm64, otherP, prove } from './support/arbitraries.js';

const normTypes = [
  { label: '2', p: 2 },
  { label: '1', p: 1 },
  { label: '3', p: 3 },
  { label: 'Infinity', p: Infinity },
] as const;

describe('clipByGlobalNorm keeps the global norm of its float32 output ≤ maxNorm', () => {
  it.each(normTypes)('normType $label', ({ p }) => {
    prove(
      fc.property(finiteGrads, maxNorm, (grads, bound) => {
        const { grads: out } = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        return norm64(Object.values(out), p) <= bound;
      }),
    );
  });

  it('any other p ≥ 1', () => {
    prove(
      fc.property(finiteGrads, maxNorm, otherP, (grads, bound, p) => {
        const { grads: out } = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        return norm64(Object.values(out), p) <= bound;
      }),
    );
  });

  it('even when maxNorm is below the float32 normal range (where outputs are subnormal); clipByNorm too', () => {
    const tinyBound = fc.double({ min: Number.MIN_VALUE, max: 2 ** -100, noNaN: true });
    prove(
      fc.property(finiteGrads, tinyBound, fc.constantFrom(1, 2, 3, Infinity), (grads, bound, p) => {
        const { grads: out } = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        const { grads: each } = new GradientPipeline([clipByNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        return norm64(Object.values(out), p) <= bound && Object.values(each).every((t) => norm64([t], p) <= bound);
      }),
    );
  });

  it('reports the norm within 2·2⁻²⁴ of exact, and normAfter within 2⁻²² of the stored values’ (exact with measureNormAfter)', () => {
    prove(
      fc.property(finiteGrads, maxNorm, fc.boolean(), (grads, bound, measureNormAfter) => {
        const before = norm64(Object.values(grads), 2);
        const { grads: out, stats } = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound })], { measureNormAfter }).step(
          copyGrads(grads),
        );
        const after = norm64(Object.values(out), 2);
        expect(Math.abs(stats.normBefore - before)).toBeLessThanOrEqual(before * 2 * 2 ** -24);
        const n = Object.values(out).reduce((a, t) => a + t.length, 0);
        // derived: norm before (2·2⁻²⁴) × factor, against values each rounded once (2⁻²⁴, or 2⁻¹⁵⁰ for subnormals)
        const allowed = measureNormAfter ? after * 1e-12 : after * 2 ** -22 + Math.sqrt(n) * 2 ** -149;
        expect(Math.abs(stats.normAfter - after)).toBeLessThanOrEqual(allowed);
        // Away from the bound by more than the norm's error, clipping happens exactly when the norm is above it.
        if (before > bound * (1 + 2 ** -22)) expect(stats.clipped).toBe(true);
        if (before < bound * (1 - 2 ** -22)) expect(stats.clipped).toBe(false);
      }),
    );
  });
});

describe('clipByNorm keeps every tensor’s norm ≤ maxNorm', () => {
  it.each(normTypes)('normType $label', ({ p }) => {
    prove(
      fc.property(finiteGrads, maxNorm, (grads, bound) => {
        const { grads: out } = new GradientPipeline([clipByNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        return Object.values(out).every((t) => norm64([t], p) <= bound);
      }),
    );
  });

  it('any other p ≥ 1', () => {
    prove(
      fc.property(finiteGrads, maxNorm, otherP, (grads, bound, p) => {
        const { grads: out } = new GradientPipeline([clipByNorm({ maxNorm: bound, normType: p })]).step(copyGrads(grads));
        return Object.values(out).every((t) => norm64([t], p) <= bound);
      }),
    );
  });
});

describe('clipByValue keeps every element in [min, max]', () => {
  const interval = fc
    .tuple(fc.double({ min: -1e30, max: 1e30, noNaN: true }), fc.double({ min: 0, max: 1e30, noNaN: true }))
    .map(([min, width]) => ({ min, max: min + width }));

  it('for { min, max }', () => {
    prove(
      fc.property(finiteGrads, interval, (grads, { min, max }) => {
        const { grads: out } = new GradientPipeline([clipByValue({ min, max })]).step(copyGrads(grads));
        // min and max need not be float32 values: the stored element is the float32 rounding of the bound, so it
        // may sit just outside [min, max] only by that rounding, and never beyond the float32 neighbours.
        return Object.values(out).every((t) => t.every((v) => v >= Math.fround(min) && v <= Math.fround(max)));
      }),
    );
  });

  it('for a float32 bound c: exactly within [-c, c]', () => {
    prove(
      fc.property(finiteGrads, fc.float({ min: Math.fround(1e-30), max: Math.fround(1e30), noNaN: true }), (grads, c) => {
        const { grads: out } = new GradientPipeline([clipByValue(c)]).step(copyGrads(grads));
        return Object.values(out).every((t) => t.every((v) => v >= -c && v <= c));
      }),
    );
  });
});

describe('agc keeps every unit’s gradient norm ≤ clipping · max(‖unit weights‖, eps)', () => {
  const layer = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([units, per]) =>
    fc.record({
      units: fc.constant(units),
      per: fc.constant(per),
      grad: fc.array(fc.oneof(fc.float({ min: -10, max: 10, noNaN: true }), fc.float({ noNaN: true, noDefaultInfinity: true })), {
        minLength: units * per,
        maxLength: units * per,
      }),
      param: fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: units * per, maxLength: units * per }),
      axis: fc.constantFrom('first' as const, 'last' as const),
      // Mostly everyday λ; sometimes one so small that the limits fall among the float32 subnormals.
      clipping: fc.oneof(fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.double({ min: Number.MIN_VALUE, max: 1e-36, noNaN: true })),
    }),
  );

  it('for both unit layouts', () => {
    prove(
      fc.property(layer, ({ units, per, grad, param, axis, clipping }) => {
        const eps = 1e-3;
        const g = Float32Array.from(grad);
        const w = Float32Array.from(param);
        const shape = axis === 'first' ? [units, per] : [per, units];
        const pipe = new GradientPipeline([agc({ clipping, eps, unitAxis: axis })]);
        const { grads: out } = pipe.step({ w: g }, { params: { w }, shapes: { w: shape } });
        const unit = (t: Float32Array, u: number) =>
          Array.from({ length: per }, (_, j) => t[axis === 'first' ? u * per + j : j * units + u]!);
        for (let u = 0; u < units; u++) {
          const limit = clipping * Math.max(norm64([unit(w, u)], 2), eps);
          const before = unit(Float32Array.from(grad), u);
          const after = unit(out.w!, u);
          if (norm64([before], 2) > limit * (1 + 1e-12)) {
            if (!(norm64([after], 2) <= limit)) return false;
          } else if (norm64([before], 2) < limit * (1 - 1e-12)) {
            if (!after.every((v, j) => Object.is(v, before[j]))) return false; // a unit within its limit is untouched
          }
        }
        return true;
      }),
    );
  });
});

describe('the bound holds for single tensors too', () => {
  it('a one-tensor step under clipByGlobalNorm equals clipByNorm on that tensor, bit for bit', () => {
    prove(
      fc.property(finiteTensor, maxNorm, fc.constantFrom(1, 2, 3, Infinity), (t, bound, p) => {
        const a = new GradientPipeline([clipByGlobalNorm({ maxNorm: bound, normType: p })]).step({ t: Float32Array.from(t) }).grads.t!;
        const b = new GradientPipeline([clipByNorm({ maxNorm: bound, normType: p })]).step({ t: Float32Array.from(t) }).grads.t!;
        return a.every((v, i) => Object.is(v, b[i]));
      }),
    );
  });
});
