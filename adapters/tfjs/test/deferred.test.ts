import { clipByGlobalNorm, GradientPipeline, nanGuard, type StepEvent } from '@gradpipe/core';
import { GradientPipelineOptimizer, withClipping, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** The optimizer's saved state as numbers (getWeights' fresh `iter` tensor disposed again). */
async function optimizerState(opt: tf.Optimizer): Promise<number[][]> {
  const weights = await opt.getWeights();
  const state = weights.map((w) => values(w.tensor));
  weights[0]!.tensor.dispose();
  return state;
}

// The GPU backends' default, forced on cpu and wasm (the browser tests run it on webgl and webgpu).
describe.each(BACKENDS)("readback: 'deferred' on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it('emits the figures after the step, in order, and skips on the device: weights, Adam state and iterations stay', async () => {
    await withoutLeaks(async () => {
      const w = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3]), true, `deferred_w_${backend}`));
      const pipe = new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]);
      const events: StepEvent[] = [];
      pipe.events$.subscribe((e) => events.push(e));
      const opt = withGradientPipeline(tf.train.adam(0.01), pipe, { readback: 'deferred' });
      expect(opt.readback).toBe('deferred');
      const good = tf.tensor1d([3, 4, 0]);
      const bad = tf.tensor1d([1, NaN, 1]);
      opt.applyGradients({ [w.name]: good });
      expect(events).toHaveLength(0); // not yet: the figures are read asynchronously
      await opt.settled();
      const weights = values(w);
      const state = await optimizerState(opt);
      opt.applyGradients({ [w.name]: bad });
      opt.applyGradients({ [w.name]: bad });
      expect(opt.iterations).toBe(3); // counted by the wrapped optimizer until the figures say "skipped"
      await opt.settled();
      expect(events.map((e) => [e.step, e.skipped, e.clipped])).toEqual([
        [0, false, true],
        [1, true, false],
        [2, true, false],
      ]);
      expect(events[0]!.normBefore).toBeCloseTo(5, 5);
      expect(opt.lastStats).toBe(events[2]);
      expect(values(w)).toEqual(weights);
      expect(opt.iterations).toBe(1);
      expect(await optimizerState(opt)).toEqual(state);
      tf.dispose([w, good, bad]);
      opt.dispose();
    });
  });

  it('a refused step (nanGuard throw) rejects settled() and every later step', async () => {
    await withoutLeaks(async () => {
      const w = tf.tidy(() => tf.variable(tf.tensor1d([1]), true, `deferred_throw_${backend}`));
      const opt = withGradientPipeline(tf.train.sgd(0.1), new GradientPipeline([nanGuard({ policy: 'throw' })]), { readback: 'deferred' });
      const bad = tf.tensor1d([Infinity]);
      opt.applyGradients({ [w.name]: bad });
      await expect(opt.settled()).rejects.toThrow('nanGuard: non-finite gradient values at step 0');
      expect(values(w)).toEqual([1]); // the refused step was not applied
      expect(() => opt.applyGradients({ [w.name]: bad })).toThrow('nanGuard: non-finite gradient values at step 0');
      tf.dispose([w, bad]);
      opt.dispose();
    });
  });
});

describe('the readback option', () => {
  beforeAll(() => useBackend('cpu'));

  it('defaults to auto (synchronous on cpu and wasm) and is refused when unknown, naming the function and the value', () => {
    const pipe = new GradientPipeline([]);
    const sgd = tf.train.sgd(0.1);
    expect(withGradientPipeline(sgd, pipe).readback).toBe('auto');
    expect(withClipping(sgd, { clipnorm: 1, readback: 'sync' }).readback).toBe('sync');
    expect(() => withGradientPipeline(sgd, pipe, { readback: 'later' as never })).toThrow(
      "withGradientPipeline: readback must be 'auto', 'sync' or 'deferred', got \"later\"",
    );
    expect(() => withGradientPipeline(sgd, pipe, { readBack: 'sync' } as never)).toThrow(
      'withGradientPipeline: unknown option "readBack" (did you mean "readback"? known: readback, schedule, accumulate)',
    );
    expect(() => new GradientPipelineOptimizer(sgd, pipe, 'sync' as never)).toThrow(
      'GradientPipelineOptimizer: options must be a plain object, got "sync"',
    );
    expect(() => withClipping(sgd, { clipnorm: 1, readback: 'now' as never })).toThrow(
      "withClipping: readback must be 'auto', 'sync' or 'deferred', got \"now\"",
    );
    sgd.dispose();
  });
});
