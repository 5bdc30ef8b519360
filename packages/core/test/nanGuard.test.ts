/**
 * Promises of nanGuard: under 'skip' a step is skipped exactly when some gradient holds a NaN or ±Infinity, and
 * the stats name those tensors; under 'zero' the output is finite and the finite entries are untouched; under
 * 'throw' the error names the tensors; the counters follow optax `apply_if_finite`.
 */

import { clipByGlobalNorm, GradientPipeline, GradpipeError, nanGuard } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allFinite, copyGrads, finiteFloat32, prove, sameGradBits } from './support/arbitraries.js';

/** A value that may be non-finite: mostly finite, sometimes NaN or ±Infinity. */
const maybeBad = fc.oneof({ weight: 6, arbitrary: finiteFloat32 }, { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) });
const maybeBadGrads = fc
  .array(fc.array(maybeBad, { minLength: 0, maxLength: 5 }), { minLength: 1, maxLength: 4 })
  .map((ts) => Object.fromEntries(ts.map((t, i) => [`t${i}`, Float32Array.from(t)])) as Record<string, Float32Array>);

const nonFiniteNames = (grads: Record<string, Float32Array>) =>
  Object.keys(grads).filter((k) => grads[k]!.some((v) => !Number.isFinite(v)));

describe("nanGuard({ policy: 'skip' })", () => {
  it('skips a step ⇔ some gradient value is NaN or ±Infinity, and names exactly those tensors', () => {
    prove(
      fc.property(maybeBadGrads, (grads) => {
        const bad = nonFiniteNames(grads);
        const { skipped, stats } = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]).step(
          copyGrads(grads),
        );
        expect(stats.nonFinite).toEqual(bad);
        expect(stats.skipped).toBe(skipped);
        return skipped === bad.length > 0;
      }),
    );
  });

  it('a skipped step leaves the gradients as they came (later transforms do not run)', () => {
    prove(
      fc.property(maybeBadGrads, (grads) => {
        const { skipped, grads: out } = new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1e-3 })]).step(copyGrads(grads));
        return !skipped || sameGradBits(out, grads);
      }),
    );
  });

  it('counts non-finite steps in total and in a row, like optax apply_if_finite', () => {
    prove(
      fc.property(fc.array(maybeBadGrads, { minLength: 1, maxLength: 12 }), (steps) => {
        const pipe = new GradientPipeline([nanGuard()]);
        let total = 0;
        let consecutive = 0;
        for (const grads of steps) {
          const bad = nonFiniteNames(grads).length > 0;
          total += bad ? 1 : 0;
          consecutive = bad ? consecutive + 1 : 0;
          pipe.step(copyGrads(grads));
          expect(pipe.state[0]).toEqual({ totalNonFinite: total, consecutiveNonFinite: consecutive });
        }
      }),
    );
  });

  it('throws after more than maxConsecutive non-finite steps in a row, naming the count', () => {
    const pipe = new GradientPipeline([nanGuard({ maxConsecutive: 2 })]);
    const bad = () => ({ w: new Float32Array([NaN]) });
    expect(pipe.step(bad()).skipped).toBe(true);
    expect(pipe.step(bad()).skipped).toBe(true);
    expect(() => pipe.step(bad())).toThrow('nanGuard: 3 consecutive steps with non-finite gradients exceed maxConsecutive 2');
    // A finite step resets the run.
    const fresh = new GradientPipeline([nanGuard({ maxConsecutive: 1 })]);
    fresh.step(bad());
    fresh.step({ w: new Float32Array([1]) });
    expect(fresh.step(bad()).skipped).toBe(true);
  });
});

describe("nanGuard({ policy: 'zero' })", () => {
  it('gives finite output: non-finite entries become 0, finite ones keep their bits, nothing is skipped', () => {
    prove(
      fc.property(maybeBadGrads, (grads) => {
        const { grads: out, skipped } = new GradientPipeline([nanGuard({ policy: 'zero' })]).step(copyGrads(grads));
        expect(skipped).toBe(false);
        expect(allFinite(out)).toBe(true);
        const expected = Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, t.map((v) => (Number.isFinite(v) ? v : 0))]));
        return sameGradBits(out, expected);
      }),
    );
  });

  it('followed by clipByGlobalNorm, the output is finite and within the bound', () => {
    prove(
      fc.property(maybeBadGrads, (grads) => {
        const { grads: out } = new GradientPipeline([nanGuard({ policy: 'zero' }), clipByGlobalNorm({ maxNorm: 1 })]).step(
          copyGrads(grads),
        );
        const sumSq = Object.values(out).reduce((s, t) => s + t.reduce((a, v) => a + v * v, 0), 0);
        return allFinite(out) && Math.sqrt(sumSq) <= 1;
      }),
    );
  });
});

describe("nanGuard({ policy: 'throw' })", () => {
  it('throws a GradpipeError naming the step and the tensors, and leaves the pipeline state as it was', () => {
    const pipe = new GradientPipeline([nanGuard({ policy: 'throw' })]);
    pipe.step({ a: new Float32Array([1]), b: new Float32Array([2]) });
    const before = pipe.toJSON();
    let error: unknown;
    try {
      pipe.step({ a: new Float32Array([1, NaN]), b: new Float32Array([2]), c: new Float32Array([-Infinity]) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradpipeError);
    expect((error as Error).message).toBe('nanGuard: non-finite gradient values at step 1 in "a", "c"');
    expect(pipe.toJSON()).toEqual(before);
  });

  it('throws ⇔ some value is non-finite', () => {
    prove(
      fc.property(maybeBadGrads, (grads) => {
        const pipe = new GradientPipeline([nanGuard({ policy: 'throw' })]);
        let threw = false;
        try {
          pipe.step(copyGrads(grads));
        } catch (e) {
          threw = e instanceof GradpipeError;
        }
        return threw === nonFiniteNames(grads).length > 0;
      }),
    );
  });
});
