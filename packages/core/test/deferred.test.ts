import {
  adaptiveClip,
  clipByGlobalNorm,
  GradientPipeline,
  GradpipeError,
  nanGuard,
  type StepEvent,
  type TensorOps,
  typedArrayOps,
} from '@gradpipe/core';
import { contractCases, referenceOutcomes } from '@gradpipe/core/testing';
import { describe, expect, it } from 'vitest';

/** The typed-array backend with a read that answers later, in reverse order of the calls: a device with a queue. */
function laggingOps(): { ops: TensorOps<Float32Array, number>; release: () => void } {
  const waiting: (() => void)[] = [];
  const ops: TensorOps<Float32Array, number> = {
    ...(typedArrayOps as TensorOps<Float32Array, number>),
    readAsync: (values) => new Promise((resolve) => waiting.push(() => resolve([...values]))),
  };
  // Later reads first: the pipeline must still settle the steps in order.
  return {
    ops,
    release: () =>
      waiting
        .splice(0)
        .reverse()
        .forEach((answer) => answer()),
  };
}

const f32 = (r: Readonly<Record<string, readonly number[]>>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v)]));

describe('stepWithDeferred', () => {
  it('gives the stats, events and states of stepWith, in step order, although the reads answer out of order', async () => {
    for (const c of contractCases.filter((c) => new GradientPipeline(c.transforms()).canDefer)) {
      const expected = referenceOutcomes(c);
      const pipe = new GradientPipeline(c.transforms());
      const events: StepEvent[] = [];
      pipe.events$.subscribe((e) => events.push(e));
      const { ops, release } = laggingOps();
      const results = c.steps.map((s) =>
        pipe.stepWithDeferred(ops, f32(s.grads), {
          ...(s.params ? { params: f32(s.params) } : {}),
          ...(s.shapes ? { shapes: s.shapes as Record<string, number[]> } : {}),
        }),
      );
      expect(events, c.name).toEqual([]); // nothing read back yet
      expect(pipe.pendingSteps).toBe(c.steps.length);
      release();
      const stats = await Promise.all(results.map((r) => r.stats));
      await pipe.settled();
      expect(stats, c.name).toEqual(expected.map((o) => o.stats));
      expect(
        events.map((e) => e.step),
        c.name,
      ).toEqual(c.steps.map((_, i) => i));
      expect(
        results.map((r) => (r.skip === undefined ? 0 : r.skip)),
        c.name,
      ).toEqual(expected.map((o) => (o.skipped ? 1 : 0)));
      results.forEach((r, i) =>
        expect(Object.fromEntries(Object.entries(r.grads).map(([k, v]) => [k, Array.from(v)])), `${c.name} step ${i}`).toEqual(
          expected[i]!.grads,
        ),
      );
      expect(pipe.pendingSteps).toBe(0);
    }
  });

  it('a pipeline whose threshold depends on the last step refuses to step while figures are pending', async () => {
    const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: 50 })]);
    expect(pipe.canDefer).toBe(false);
    expect(new GradientPipeline([nanGuard({ maxConsecutive: 2 }), clipByGlobalNorm({ maxNorm: 1 })]).canDefer).toBe(true);
    const { ops, release } = laggingOps();
    pipe.stepWithDeferred(ops, { w: new Float32Array([3, 4]) });
    expect(() => pipe.stepWithDeferred(ops, { w: new Float32Array([3, 4]) })).toThrow(
      'GradientPipeline.stepWithDeferred: transforms[0] (adaptiveClip) needs the figures of the step before, still being read back: await pipe.settled() between steps',
    );
    expect(() => pipe.toJSON()).toThrow('GradientPipeline.toJSON: 1 deferred step(s) still wait for their figures');
    expect(() => pipe.step({ w: new Float32Array([1]) })).toThrow(
      '1 deferred step(s) still wait for their figures: await pipe.settled() before a synchronous step',
    );
    release();
    await pipe.settled();
    pipe.stepWithDeferred(ops, { w: new Float32Array([6, 8]) });
    release();
    await pipe.settled();
    expect(pipe.toJSON().transforms[0]!.state).toEqual({ sorted: [5, 10], recent: [] });
  });

  it('a commit that refuses a step rejects its stats, and every later step is refused with the same error', async () => {
    const pipe = new GradientPipeline([nanGuard({ policy: 'throw' })]);
    const { ops, release } = laggingOps();
    const first = pipe.stepWithDeferred(ops, { w: new Float32Array([NaN]) });
    const second = pipe.stepWithDeferred(ops, { w: new Float32Array([1]) });
    release();
    await expect(first.stats).rejects.toThrow('nanGuard: non-finite gradient values at step 0 in "w"');
    await expect(second.stats).rejects.toThrow('nanGuard: non-finite gradient values at step 0 in "w"');
    await expect(pipe.settled()).rejects.toBeInstanceOf(GradpipeError);
    expect(() => pipe.stepWithDeferred(ops, { w: new Float32Array([1]) })).toThrow('nanGuard: non-finite gradient values at step 0');
  });

  it('refuses a backend without readAsync, naming the function', () => {
    const pipe = new GradientPipeline([]);
    expect(() => pipe.stepWithDeferred(typedArrayOps as TensorOps<Float32Array, number>, {})).toThrow(
      'GradientPipeline.stepWithDeferred: the "typed-array" backend cannot read asynchronously (it has no readAsync): use stepWith',
    );
  });
});
