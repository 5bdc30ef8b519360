/**
 * Promise: users can write their own transform (optax style: `init` + `update` over explicit JSON state, written
 * once against TensorOps), mix it with the built-ins, and save and resume it through a factory.
 */

import { clipByGlobalNorm, GradientPipeline, type GradientTransform, type JsonObject, nanGuard, type StepEvent } from '@gradpipe/core';
import { float32Factor } from '@gradpipe/core/internal';
import { describe, expect, it } from 'vitest';
import { copyGrads, sameGradBits } from './support/arbitraries.js';

/** A user's transform: scales gradients by 1 / (1 + decay · t), where t counts the applied steps. */
interface DecayState {
  applied: number;
}
function decayingScale(options: { decay: number }): GradientTransform<DecayState> {
  const { decay } = options;
  return {
    kind: 'decayingScale',
    config: { decay },
    init: () => ({ applied: 0 }),
    update(grads, state, { ops }) {
      const factor = ops.scalar(1 / (1 + decay * state.applied));
      const out: typeof grads = {};
      for (const [name, g] of Object.entries(grads)) out[name] = ops.scale(g, factor);
      return {
        grads: out,
        figures: { factor },
        // The next state is decided once the step's outcome is known: a skipped step does not count.
        commit: (_figures, outcome) => (outcome.skipped ? state : { applied: state.applied + 1 }),
      };
    },
  };
}
const factories = { decayingScale: (config: JsonObject) => decayingScale(config as { decay: number }) };

const steps = [
  { w: [3, 4], b: [0.5] },
  { w: [0.3, 0.4], b: [0.1] },
  { w: [NaN, 1], b: [0] }, // skipped by nanGuard: the custom transform's counter must not move
  { w: [30, -40], b: [2] },
  { w: [0.01, 0.02], b: [-0.03] },
  { w: [5, 5], b: [5] },
].map((s) => ({ w: Float32Array.from(s.w), b: Float32Array.from(s.b) }) as Record<string, Float32Array>);

const make = () => [nanGuard(), decayingScale({ decay: 0.5 }), clipByGlobalNorm({ maxNorm: 1 })];

describe('a custom transform among the built-ins', () => {
  it('runs in order with them and reports its figures under its kind', () => {
    const pipe = new GradientPipeline(make());
    const events: StepEvent[] = [];
    pipe.events$.subscribe((e) => events.push(e));
    const results = steps.map((g) => pipe.step(copyGrads(g)));

    // Step 1 (index 1): applied = 1 so factor 1/1.5; the norm 0.5099… becomes 0.34, under maxNorm: no clipping.
    expect(events[1]!.transforms.map((t) => t.kind)).toEqual(['nanGuard', 'decayingScale', 'clipByGlobalNorm']);
    expect(events[1]!.transforms[1]!.figures.factor).toBe(1 / 1.5);
    // typed arrays scale by the float32 at or below the factor, once rounded
    expect(results[1]!.grads.w).toEqual(Float32Array.from([0.3, 0.4].map((v) => Math.fround(v) * float32Factor(1 / 1.5)!)));
    expect(results[1]!.stats.clipped).toBe(false);
    // Step 2 is skipped, so step 3 still uses applied = 2: factor 1/2, then clipped to norm ≤ 1.
    expect(results[2]!.skipped).toBe(true);
    expect(events[3]!.transforms[1]!.figures.factor).toBe(0.5);
    expect(results[3]!.stats.clipped).toBe(true);
    expect(Math.hypot(...results[3]!.grads.w!, ...results[3]!.grads.b!)).toBeLessThanOrEqual(1);
    expect(pipe.state[1]).toEqual({ applied: 5 });
  });

  it('is saved with toJSON and rebuilt by fromJSON through its factory; the resumed run is bit-identical', () => {
    for (let split = 1; split < steps.length; split++) {
      const uninterrupted = new GradientPipeline(make());
      const expected = steps.map((g) => uninterrupted.step(copyGrads(g)));

      const first = new GradientPipeline(make());
      steps.slice(0, split).forEach((g) => first.step(copyGrads(g)));
      const saved = JSON.parse(JSON.stringify(first));
      expect(saved.transforms[1]).toEqual({ kind: 'decayingScale', config: { decay: 0.5 }, state: expect.any(Object) });
      const resumed = GradientPipeline.fromJSON(saved, { transforms: factories });
      steps.slice(split).forEach((g, i) => {
        const r = resumed.step(copyGrads(g));
        expect(r.stats).toEqual(expected[split + i]!.stats);
        expect(sameGradBits(r.grads, expected[split + i]!.grads)).toBe(true);
      });
      expect(resumed.toJSON()).toEqual(uninterrupted.toJSON());
    }
  });

  it('without its factory, fromJSON says which factory is missing', () => {
    const json = JSON.parse(JSON.stringify(new GradientPipeline(make())));
    expect(() => GradientPipeline.fromJSON(json)).toThrow(
      'GradientPipeline.fromJSON: transforms[1] has unknown kind "decayingScale" (known: clipByValue, clipByNorm, clipByGlobalNorm, nanGuard, adaptiveClip, agc): pass its factory in options.transforms',
    );
  });

  it('a commit that throws refuses the step and leaves every transform’s state as it was', () => {
    const refuseBig: GradientTransform<null> = {
      kind: 'refuseBig',
      config: {},
      init: () => null,
      update(grads, _state, ctx) {
        const norm = ctx.globalNorm(grads, 2);
        return {
          grads,
          figures: { norm },
          commit(figures) {
            if (figures.norm! > 100) throw new Error(`refuseBig: norm ${figures.norm}`);
            return null;
          },
        };
      },
    };
    const pipe = new GradientPipeline([decayingScale({ decay: 1 }), refuseBig]);
    pipe.step({ w: new Float32Array([1]) });
    const before = pipe.toJSON();
    expect(() => pipe.step({ w: new Float32Array([1000]) })).toThrow('refuseBig: norm 500');
    expect(pipe.toJSON()).toEqual(before);
  });
});
