/**
 * Promise: saving a pipeline with toJSON, sending it through JSON.stringify/JSON.parse and rebuilding it with
 * fromJSON gives a run that is bit-identical to one that was never interrupted — for every transform, the
 * adaptive ones (whose state is a history of norms) included.
 */

import { adaptiveClip, GradientPipeline, nanGuard, type StepResult } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyGrads, finiteFloat32, prove, sameGradBits } from './support/arbitraries.js';
import { anyTransform, paramsLike } from './support/transforms.js';

/** Steps of gradients with the same three tensors, mostly finite, now and then a NaN or an Infinity. */
const value = fc.oneof({ weight: 12, arbitrary: finiteFloat32 }, { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity) });
const run = fc.array(
  fc
    .tuple(
      fc.array(value, { minLength: 3, maxLength: 3 }),
      fc.array(value, { minLength: 2, maxLength: 2 }),
      fc.array(value, { minLength: 1, maxLength: 1 }),
    )
    .map(([a, b, c]) => ({ a: Float32Array.from(a), b: Float32Array.from(b), c: Float32Array.from(c) }) as Record<string, Float32Array>),
  { minLength: 2, maxLength: 12 },
);

type Outcome = Pick<StepResult<Float32Array>, 'grads' | 'skipped' | 'stats'>;

function sameOutcome(a: Outcome, b: Outcome): boolean {
  expect(b.stats).toEqual(a.stats); // Object.is on every figure: +0 and -0 differ, NaN equals NaN
  expect(b.skipped).toBe(a.skipped);
  return sameGradBits(a.grads, b.grads);
}

describe('a run resumed from JSON is bit-identical to an uninterrupted one', () => {
  it('for any chain of one to three transforms, stopped after any step', () => {
    prove(
      fc.property(fc.array(anyTransform(['skip', 'zero']), { minLength: 1, maxLength: 3 }), run, fc.nat(), (makers, steps, at) => {
        const make = () => makers.map((m) => m.make());
        const split = 1 + (at % (steps.length - 1)); // stop after 1 … n-1 steps
        const step = (pipe: GradientPipeline, grads: Record<string, Float32Array>) =>
          pipe.step(copyGrads(grads), { params: paramsLike(grads) });

        const uninterrupted = new GradientPipeline(make());
        const expected = steps.map((g) => step(uninterrupted, g));

        const first = new GradientPipeline(make());
        const before = steps.slice(0, split).map((g) => step(first, g));
        const saved = JSON.stringify(first); // JSON.stringify calls toJSON
        const resumed = GradientPipeline.fromJSON(JSON.parse(saved));
        expect(resumed.stepCount).toBe(split);
        const after = steps.slice(split).map((g) => step(resumed, g));

        expect(resumed.toJSON()).toEqual(uninterrupted.toJSON());
        return [...before, ...after].every((o, i) => sameOutcome(expected[i]!, o));
      }),
    );
  });

  it('for the adaptive transforms over long runs (full histories, windows, warm-up crossing the save)', () => {
    const everyday = fc
      .array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 4 })
      .map((a) => ({ w: Float32Array.from(a) }));
    prove(
      fc.property(fc.array(everyday, { minLength: 2, maxLength: 40 }), fc.nat(), (steps, at) => {
        const make = () => [
          nanGuard(),
          adaptiveClip({ method: 'percentile', percentile: 25 }),
          adaptiveClip({ method: 'percentile', percentile: 90, window: 5 }),
          adaptiveClip({ method: 'zscore', warmupSteps: 4, zThreshold: 1.5, alpha: 0.9 }),
        ];
        const split = 1 + (at % (steps.length - 1));
        const uninterrupted = new GradientPipeline(make());
        const expected = steps.map((g) => uninterrupted.step(copyGrads(g)));
        const first = new GradientPipeline(make());
        steps.slice(0, split).forEach((g) => first.step(copyGrads(g)));
        const resumed = GradientPipeline.fromJSON(JSON.parse(JSON.stringify(first.toJSON())));
        return steps.slice(split).every((g, i) => sameOutcome(expected[split + i]!, resumed.step(copyGrads(g))));
      }),
    );
  });

  it('keeps the step counter and the tensorNorms option', () => {
    const pipe = new GradientPipeline([nanGuard()], { tensorNorms: true });
    pipe.step({ w: new Float32Array([1]) });
    pipe.step({ w: new Float32Array([NaN]) });
    const resumed = GradientPipeline.fromJSON(JSON.parse(JSON.stringify(pipe)));
    expect(resumed.stepCount).toBe(2);
    const events: unknown[] = [];
    resumed.events$.subscribe((e) => events.push(e));
    resumed.step({ w: new Float32Array([3, 4]) });
    expect(events).toEqual([expect.objectContaining({ step: 2, tensorNorms: { w: 5 } })]);
    expect(resumed.state).toEqual([{ totalNonFinite: 1, consecutiveNonFinite: 0 }]);
  });
});
