/**
 * Learning-rate schedules and gradient accumulation in the tfjs wrapper (issue 10, items 2 and 4):
 * `withGradientPipeline(optimizer, pipe, { schedule, accumulate })`.
 *
 * Promises:
 * - the learning rate of update t is `schedule(t)`, t counting applied updates (skipped steps do not count), and the
 *   step's event carries it as `lr`;
 * - with `accumulate: k`, k calls make one update, equal to one call with the mean gradient; the pipeline runs
 *   once per update, on the mean;
 * - getWeights/getConfig saved mid-accumulation, restored into a new optimizer, continue as the original does;
 * - nothing leaks, a refused step included; bad options and corrupt saves are refused, naming the function.
 */

import {
  clipByGlobalNorm,
  constant,
  GradientPipeline,
  GradpipeError,
  linearWarmup,
  nanGuard,
  type StepEvent,
  stepDecay,
} from '@gradpipe/core';
import { GradientPipelineOptimizer, withClipping, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe.each(BACKENDS)('schedules and accumulation on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  const disposables: { dispose(): void }[] = [];
  const cleanup = () => disposables.splice(0).forEach((d) => d.dispose());
  afterEach(() => cleanup());
  const variable = (v: number[], name = 'w') => {
    const w = tf.tidy(() => tf.variable(tf.tensor1d(v), true, `${name}_${backend}_${Math.random().toString(36).slice(2)}`));
    disposables.push(w);
    return w;
  };
  const tensor = (v: number[]) => {
    const t = tf.tensor1d(v);
    disposables.push(t);
    return t;
  };

  it('SGD with linearWarmup: update t moves the weights by schedule(t) · g, starting at lr 0, and each event carries lr', async () => {
    await withoutLeaks(() => {
      const w = variable([1, -2]);
      const schedule = linearWarmup({ peak: 0.4, warmupSteps: 4 }); // 0, 0.1, 0.2, 0.3, 0.4, 0.4, …
      const pipe = new GradientPipeline([]);
      const lrs: (number | undefined)[] = [];
      pipe.events$.subscribe((e: StepEvent) => lrs.push(e.lr));
      const opt = withGradientPipeline(tf.train.sgd(123), pipe, { schedule });
      expect(opt.learningRate).toBe(0); // set at once: schedule(0)
      const g = tensor([1, 0.5]);
      const expected = [1, -2];
      for (let t = 0; t < 6; t++) {
        opt.applyGradients({ [w.name]: g });
        expected[0] = Math.fround(expected[0]! - Math.fround(schedule(t)) * 1);
        expected[1] = Math.fround(expected[1]! - Math.fround(schedule(t)) * 0.5);
        expect(values(w)[0]).toBeCloseTo(expected[0]!, 6);
        expect(values(w)[1]).toBeCloseTo(expected[1]!, 6);
      }
      expect(lrs).toEqual(Array.from({ length: 6 }, (_, t) => schedule(t)));
      expect(lrs.slice(0, 2)).toEqual([0, 0.1]);
      expect(opt.iterations).toBe(6);
      opt.dispose();
      cleanup();
    });
  });

  it('a skipped step does not advance the schedule: the next update gets the learning rate the skipped one would have had', async () => {
    await withoutLeaks(() => {
      const w = variable([0]);
      const schedule = stepDecay({ init: 1, gamma: 0.5, stepSize: 1 }); // 1, 0.5, 0.25, …
      const lrs: number[] = [];
      const pipe = new GradientPipeline([nanGuard({ policy: 'skip' })]);
      pipe.events$.subscribe((e) => lrs.push(e.lr!));
      const opt = withGradientPipeline(tf.train.adam(), pipe, { schedule, readback: 'sync' });
      opt.applyGradients({ [w.name]: tensor([1]) });
      opt.applyGradients({ [w.name]: tensor([NaN]) });
      opt.applyGradients({ [w.name]: tensor([1]) });
      expect(opt.iterations).toBe(2);
      expect(lrs).toEqual([1, 0.5, 0.5]);
      opt.dispose();
      cleanup();
    });
  });

  it('learningRate reads and sets the wrapped optimizer’s rate between steps (0 allowed), for every tf.train optimizer', () => {
    const makers = [
      () => tf.train.sgd(0.1),
      () => tf.train.momentum(0.1, 0.9),
      () => tf.train.adam(0.1),
      () => tf.train.adamax(0.1),
      () => tf.train.rmsprop(0.1),
      () => tf.train.adagrad(0.1),
      () => tf.train.adadelta(0.1),
    ];
    for (const make of makers) {
      const inner = make();
      const opt = withGradientPipeline(inner, new GradientPipeline([]));
      expect(opt.learningRate).toBe(0.1);
      opt.learningRate = 0;
      expect(opt.learningRate).toBe(0);
      expect((inner.getConfig() as { learningRate: number }).learningRate).toBe(0);
      expect(() => (opt.learningRate = -1)).toThrow(
        'GradientPipelineOptimizer.learningRate: the learning rate must be a finite number >= 0, got -1',
      );
      expect(() => (opt.learningRate = Number.NaN)).toThrow(GradpipeError);
      expect(opt.learningRate).toBe(0);
      opt.dispose();
    }
  });

  it('SGD at learning rate 0 does not move the weights; set back, it does (its −lr tensor follows)', async () => {
    await withoutLeaks(() => {
      const w = variable([3]);
      const opt = withGradientPipeline(tf.train.sgd(1), new GradientPipeline([]));
      opt.learningRate = 0;
      opt.applyGradients({ [w.name]: tensor([1]) });
      expect(values(w)).toEqual([3]);
      opt.learningRate = 0.5;
      opt.applyGradients({ [w.name]: tensor([1]) });
      expect(values(w)).toEqual([2.5]);
      opt.dispose();
      cleanup();
    });
  });

  it('accumulate 3: the weights move once per 3 calls, exactly as one call with the mean gradient, clipped once', async () => {
    await withoutLeaks(() => {
      const a = variable([1, 2, 3], 'a');
      const ref = variable([1, 2, 3], 'ref');
      const clipped: boolean[] = [];
      const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
      pipe.events$.subscribe((e) => clipped.push(e.clipped));
      const opt = withGradientPipeline(tf.train.adam(0.1), pipe, { accumulate: 3 });
      const bare = withGradientPipeline(tf.train.adam(0.1), new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]));
      const micro = [
        [3, 0, 0],
        [0, 6, 0],
        [0, 0, -9],
      ].map(tensor);
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 3; i++) {
          const before = values(a);
          opt.applyGradients({ [a.name]: micro[i]! });
          if (i < 2) expect(values(a)).toEqual(before);
          expect(opt.pendingMicroBatches).toBe((i + 1) % 3);
        }
        bare.applyGradients({ [ref.name]: tensor([1, 2, -3]) }); // the mean of the three
        expect(values(a)).toEqual(values(ref));
      }
      expect(opt.iterations).toBe(2);
      expect(pipe.stepCount).toBe(2); // the pipeline ran once per update
      expect(clipped).toEqual([true, true]);
      opt.dispose();
      bare.dispose();
      cleanup();
    });
  });

  it('accumulate: a gradient missing from a micro-batch counts as zero there; minimize reports each update’s mean loss', async () => {
    await withoutLeaks(() => {
      const a = variable([0], 'a');
      const b = variable([0], 'b');
      const losses: (number | undefined)[] = [];
      const pipe = new GradientPipeline([]);
      pipe.events$.subscribe((e) => losses.push(e.loss));
      const opt = withGradientPipeline(tf.train.sgd(1), pipe, { accumulate: 2 });
      opt.applyGradients([
        { name: a.name, tensor: tensor([4]) },
        { name: b.name, tensor: null as never },
      ]);
      opt.applyGradients([
        { name: a.name, tensor: tensor([2]) },
        { name: b.name, tensor: tensor([6]) },
      ]);
      expect(values(a)).toEqual([-3]); // (4 + 2) / 2
      expect(values(b)).toEqual([-3]); // (0 + 6) / 2
      // minimize: loss = 2a, 4a → gradients 2, 4; the update's loss is the mean of the two micro-batches' losses.
      opt.minimize(() => tf.mul(a, 2).sum() as tf.Scalar);
      opt.minimize(() => tf.mul(a, 4).sum() as tf.Scalar);
      expect(values(a)).toEqual([-6]);
      expect(losses[0]).toBeUndefined(); // applyGradients has no loss
      expect(losses[1]).toBe((-6 + -12) / 2);
      opt.dispose();
      cleanup();
    });
  });

  it('saved mid-accumulation (getConfig + getWeights), restored into a new optimizer: continues exactly as the original', async () => {
    const w = variable([1, 2], 'w');
    const schedule = stepDecay({ init: 0.1, gamma: 0.5, stepSize: 1 });
    const make = () => new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const opt = withGradientPipeline(tf.train.adam(), make(), { schedule, accumulate: 3 });
    const grads = [
      [1, 2],
      [3, -1],
      [0.5, 0.5],
      [-2, 1],
      [4, 4],
      [1, 0],
      [0, 1],
    ].map(tensor);
    for (const g of grads.slice(0, 4)) opt.applyGradients({ [w.name]: g }); // one update, one micro-batch pending
    expect(opt.pendingMicroBatches).toBe(1);

    const config = opt.getConfig();
    const weights = await opt.getWeights();
    const saved = weights.map((x) => ({ name: x.name, tensor: x.tensor.clone() }));
    tf.dispose(weights.filter((x) => x.name === 'iter' || x.name === 'gradpipe/microBatches/count').map((x) => x.tensor));
    const wSaved = values(w);

    for (const g of grads.slice(4)) opt.applyGradients({ [w.name]: g });
    const expected = values(w);
    const expectedLr = opt.learningRate;

    w.assign(tensor(wSaved));
    const resumed = GradientPipelineOptimizer.fromConfig(GradientPipelineOptimizer, config) as GradientPipelineOptimizer;
    await resumed.setWeights(saved);
    tf.dispose(saved.map((x) => x.tensor));
    expect(resumed.accumulate).toBe(3);
    expect(resumed.schedule?.kind).toBe('stepDecay');
    expect(resumed.pendingMicroBatches).toBe(1);
    for (const g of grads.slice(4)) resumed.applyGradients({ [w.name]: g });
    expect(values(w)).toEqual(expected);
    expect(resumed.learningRate).toBe(expectedLr);
    expect(resumed.iterations).toBe(opt.iterations);
    opt.dispose();
    resumed.dispose();
  });

  it('1,000 accumulated calls leave tf.memory().numTensors as after the first update; dispose frees the sums', async () => {
    const w = variable([1, 2, 3], 'w');
    const g = tensor([0.1, 0.2, 0.3]);
    const before = tf.memory().numTensors;
    const opt = withGradientPipeline(tf.train.adam(0.01), new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]), {
      schedule: constant(0.01),
      accumulate: 4,
    });
    for (let i = 0; i < 4; i++) opt.minimize(() => tf.sum(tf.mul(w, g)) as tf.Scalar);
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) opt.minimize(() => tf.sum(tf.mul(w, g)) as tf.Scalar);
    expect(tf.memory().numTensors).toBe(afterFirst);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a step the pipeline refuses leaks nothing through minimize (issue 13: 5 tensors a step before)', async () => {
    await withoutLeaks(() => {
      const w = variable([1], 'w');
      const opt = withGradientPipeline(tf.train.sgd(0.1), new GradientPipeline([nanGuard({ policy: 'throw' })]));
      for (let i = 0; i < 10; i++) {
        expect(() => opt.minimize(() => tf.sum(tf.mul(w, Number.NaN)) as tf.Scalar, true)).toThrow(GradpipeError);
      }
      expect(values(w)).toEqual([1]);
      opt.dispose();
      cleanup();
    });
  });

  it('accumulate: an update the pipeline refuses drops its set, and the next calls start a new one', async () => {
    await withoutLeaks(() => {
      const w = variable([1], 'w');
      const opt = withGradientPipeline(tf.train.sgd(1), new GradientPipeline([nanGuard({ policy: 'throw' })]), { accumulate: 2 });
      opt.applyGradients({ [w.name]: tensor([Number.NaN]) });
      expect(() => opt.applyGradients({ [w.name]: tensor([1]) })).toThrow(GradpipeError);
      expect([opt.pendingMicroBatches, opt.iterations, values(w)[0]]).toEqual([0, 0, 1]);
      opt.applyGradients({ [w.name]: tensor([2]) });
      opt.applyGradients({ [w.name]: tensor([4]) });
      expect([opt.iterations, values(w)[0]]).toEqual([1, -2]);
      opt.dispose();
      cleanup();
    });
  });

  it('no gradient for any variable is refused, as Keras does ("No gradients provided for any variable")', () => {
    const w = variable([1], 'w');
    const opt = withGradientPipeline(tf.train.sgd(0.1), new GradientPipeline([]));
    expect(() => opt.applyGradients([{ name: w.name, tensor: null as never }])).toThrow(
      `GradientPipelineOptimizer.applyGradients: no gradients provided for any variable (all 1 are null or undefined: "${w.name}")`,
    );
    expect(opt.iterations).toBe(0);
    opt.dispose();
  });
});

describe('schedule and accumulate options: refused with the function, the option and the value', () => {
  beforeAll(() => useBackend('cpu'));
  const pipe = () => new GradientPipeline([]);

  it.each([
    [{ accumulate: 0 }, 'withGradientPipeline: accumulate must be an integer >= 1, got 0'],
    [{ accumulate: 1.5 }, 'withGradientPipeline: accumulate must be an integer >= 1, got 1.5'],
    [{ accumulate: '2' }, 'withGradientPipeline: accumulate must be an integer >= 1, got "2"'],
    [{ accumulate: null }, 'withGradientPipeline: accumulate must not be null (leave it out for its default)'],
    [{ schedule: 0.1 }, 'withGradientPipeline: schedule must be a schedule such as cosineDecay({ peak: 1e-3, decaySteps: 1000 }), got 0.1'],
    [
      { schedules: constant(1) },
      'withGradientPipeline: unknown option "schedules" (did you mean "schedule"? known: readback, schedule, accumulate)',
    ],
  ])('%o', (options, message) => {
    const sgd = tf.train.sgd(0.1);
    expect(() => withGradientPipeline(sgd, pipe(), options as never)).toThrow(message);
    expect((sgd.getConfig() as { learningRate: number }).learningRate).toBe(0.1); // the optimizer is untouched
    sgd.dispose();
  });

  it('a null or undefined optimizer gets a GradpipeError naming the function (issue 13: it was tfjs’s TypeError)', () => {
    for (const optimizer of [null, undefined]) {
      expect(() => withGradientPipeline(optimizer as never, pipe())).toThrow(
        `withGradientPipeline: optimizer must be a tf.Optimizer (e.g. tf.train.adam(1e-3)), got ${optimizer}`,
      );
      expect(() => withClipping(optimizer as never, { clipnorm: 1 })).toThrow(
        `withClipping: optimizer must be a tf.Optimizer (e.g. tf.train.adam(1e-3)), got ${optimizer}`,
      );
      expect(() => new GradientPipelineOptimizer(optimizer as never, pipe())).toThrow(GradpipeError);
    }
  });

  it('a schedule with an optimizer that keeps no numeric learning rate is refused', () => {
    class Custom extends tf.Optimizer {
      applyGradients(): void {}
      getConfig() {
        return {};
      }
      static get className() {
        return 'Custom';
      }
    }
    expect(() => withGradientPipeline(new Custom(), pipe(), { schedule: constant(1) })).toThrow(
      'GradientPipelineOptimizer: Custom keeps no numeric learningRate, so its learning rate cannot be set',
    );
  });

  it('setWeights refuses micro-batch sums for an optimizer that does not accumulate, and corrupt counts', async () => {
    const w = tf.variable(tf.tensor1d([1]), true, `sw_${Math.random()}`);
    const opt = withGradientPipeline(tf.train.sgd(0.1), pipe(), { accumulate: 2 });
    opt.applyGradients({ [w.name]: tf.tensor1d([1]) });
    const weights = await opt.getWeights();
    const plain = withGradientPipeline(tf.train.sgd(0.1), pipe());
    await expect(plain.setWeights(weights)).rejects.toThrow(
      'GradientPipelineOptimizer.setWeights: the weights hold micro-batch sums (gradpipe/microBatches/count), but this optimizer does not accumulate (accumulate 1)',
    );
    const corrupt = weights.map((x) =>
      x.name === 'gradpipe/microBatches/count' ? { name: x.name, tensor: tf.tensor1d([5, 0], 'int32') } : x,
    );
    await expect(opt.setWeights(corrupt)).rejects.toThrow(
      'GradientPipelineOptimizer.setWeights: the saved micro-batch counts must be [count in [0, 2), losses in [0, count]] for accumulate 2, got [5, 0]',
    );
    expect(opt.pendingMicroBatches).toBe(1); // nothing changed

    // Restored sums are bound to the next gradients by name, else by position when the shapes agree, else refused.
    const other = withGradientPipeline(tf.train.sgd(0.1), pipe(), { accumulate: 2 });
    await other.setWeights(weights.map((x) => ({ name: x.name, tensor: x.tensor })));
    const g = tf.tensor1d([1, 2]);
    expect(() => other.applyGradients({ elsewhere: g })).toThrow(
      `GradientPipelineOptimizer.applyGradients: the restored micro-batch sums ("${w.name}") match neither the names nor, in order, the shapes of this step's gradients ("elsewhere")`,
    );
    expect(other.pendingMicroBatches).toBe(1);
    g.dispose();
    other.dispose();
    tf.dispose([w, ...weights.map((x) => x.tensor)]);
    opt.dispose();
    plain.dispose();
  });
});
