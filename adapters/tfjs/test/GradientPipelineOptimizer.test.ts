import { clipByGlobalNorm, GradientPipeline, GradpipeError, nanGuard, type StepEvent } from '@gradpipe/core';
import { GradientPipelineOptimizer, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** The optimizer's saved state as numbers (the `iter` tensor getWeights makes is disposed again). */
async function optimizerState(opt: tf.Optimizer): Promise<number[][]> {
  const weights = await opt.getWeights();
  const state = weights.map((w) => values(w.tensor));
  weights[0]!.tensor.dispose(); // the iteration count is a fresh tensor; the rest are the optimizer's variables
  return state;
}

describe.each(BACKENDS)('withGradientPipeline on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  const disposables: { dispose(): void }[] = [];
  afterEach(() => cleanup());
  /** A fresh variable with a unique name; disposed by `cleanup()` (call it inside the leak check). */
  const variable = (v: number[], name: string) => {
    const init = tf.tensor1d(v);
    const w = tf.variable(init, true, `${name}_${backend}_${Math.random().toString(36).slice(2)}`);
    init.dispose();
    disposables.push(w);
    return w;
  };
  const cleanup = () => disposables.splice(0).forEach((d) => d.dispose());

  it('is a real tf.Optimizer that model.compile accepts', async () => {
    await withoutLeaks(() => {
      const opt = withGradientPipeline(tf.train.adam(1e-3), new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]));
      expect(opt).toBeInstanceOf(tf.Optimizer);
      expect(opt).toBeInstanceOf(GradientPipelineOptimizer);
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      expect(model.optimizer).toBe(opt);
      model.dispose();
      opt.dispose();
      cleanup();
    });
  });

  it('minimize clips before the wrapped optimizer steps, and reports the loss', async () => {
    await withoutLeaks(() => {
      const w = variable([1, 2], 'w');
      const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
      const events: StepEvent[] = [];
      pipe.events$.subscribe((e) => events.push(e));
      const opt = withGradientPipeline(tf.train.sgd(0.1), pipe);
      const c = tf.tensor1d([3, 4]);
      const cost = opt.minimize(() => tf.sum(tf.mul(w, c)) as tf.Scalar, true);
      // gradient [3, 4] (norm 5) clipped to [0.6, 0.8]: w ← w − 0.1·[0.6, 0.8]
      values(w).forEach((v, i) => expect(v).toBeCloseTo([1 - 0.06, 2 - 0.08][i]!, 6));
      expect(values(cost!)[0]).toBeCloseTo(11, 5);
      expect(events).toHaveLength(1);
      expect(events[0]!.normBefore).toBeCloseTo(5, 5);
      expect(events[0]!.normAfter).toBeLessThanOrEqual(1);
      expect(events[0]!.clipped).toBe(true);
      expect(events[0]!.loss).toBeCloseTo(11, 5);
      expect(opt.iterations).toBe(1);
      tf.dispose([cost!, c]);
      opt.dispose();
      cleanup();
    });
  });

  it('applyGradients takes a NamedTensorMap and a NamedTensor[], and passes over null gradients', async () => {
    await withoutLeaks(async () => {
      const a = variable([1, 1], 'a');
      const b = variable([5], 'b');
      const g = tf.tensor1d([0, 10]);
      // Reference: bare Adam on the same gradient clipped by hand to norm 1 ([0, 1]).
      const refA = variable([1, 1], 'refA');
      const refB = variable([5], 'refB');
      const bare = tf.train.adam(0.1);
      const clippedByHand = tf.tensor1d([0, 1]);
      bare.applyGradients([
        { name: refA.name, tensor: clippedByHand },
        { name: refB.name, tensor: null as never },
      ]);
      bare.applyGradients({ [refA.name]: clippedByHand } as never); // (tfjs types Adam's map as variables)

      const opt = withGradientPipeline(tf.train.adam(0.1), new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]));
      opt.applyGradients([
        { name: a.name, tensor: g },
        { name: b.name, tensor: null as never },
      ]);
      opt.applyGradients({ [a.name]: g });
      values(a).forEach((v, i) => expect(v).toBeCloseTo(values(refA)[i]!, 6));
      expect(values(b)).toEqual([5]);
      expect(opt.iterations).toBe(2);
      // Same slots in the same order; values equal up to the clip factor's 1 − 2⁻²⁰ bound safety.
      const [mine, theirs] = [await optimizerState(opt), await optimizerState(bare)];
      expect(mine.map((w) => w.length)).toEqual(theirs.map((w) => w.length));
      mine.flat().forEach((v, i) => expect(v).toBeCloseTo(theirs.flat()[i]!, 5));
      expect(values(g)).toEqual([0, 10]); // the caller's gradient is untouched
      tf.dispose([g, clippedByHand]);
      opt.dispose();
      bare.dispose();
      cleanup();
    });
  });

  it('a skipped step changes no weight and leaves iterations and the Adam moments as they were', async () => {
    await withoutLeaks(async () => {
      const w = variable([1, 2, 3], 'w');
      const pipe = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]);
      const opt = withGradientPipeline(tf.train.adam(0.01), pipe);
      const good = tf.tensor1d([0.5, -0.5, 1]);
      opt.applyGradients({ [w.name]: good });
      const weightsBefore = values(w);
      const stateBefore = await optimizerState(opt);
      expect(opt.iterations).toBe(1);

      const bad = tf.tensor1d([NaN, 1, 1]);
      opt.applyGradients({ [w.name]: bad });
      expect(opt.lastStats?.skipped).toBe(true);
      expect(values(w)).toEqual(weightsBefore);
      expect(opt.iterations).toBe(1);
      expect(await optimizerState(opt)).toEqual(stateBefore);
      expect(pipe.stepCount).toBe(2);

      opt.applyGradients({ [w.name]: good }); // training goes on after the skip
      expect(opt.iterations).toBe(2);
      expect(values(w)).not.toEqual(weightsBefore);
      tf.dispose([good, bad]);
      opt.dispose();
      cleanup();
    });
  });

  it('model.fit runs every batch through the pipeline and pipe.events$ emits each step with its loss', async () => {
    await withoutLeaks(async () => {
      const pipe = new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 0.5 })]);
      const events: StepEvent[] = [];
      pipe.events$.subscribe((e) => events.push(e));
      const model = tf.sequential({
        layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }), tf.layers.dense({ units: 1 })],
      });
      const opt = withGradientPipeline(tf.train.adam(0.01), pipe);
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const xs = tf.randomNormal([40, 3], 0, 1, 'float32', 1);
      const ys = tf.randomNormal([40, 1], 0, 10, 'float32', 2);
      const history = await model.fit(xs, ys, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
      expect(events.map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5]); // 3 batches × 2 epochs
      for (const e of events) {
        expect(Number.isFinite(e.loss)).toBe(true);
        expect(e.normAfter).toBeLessThanOrEqual(0.5);
      }
      // The epoch loss tfjs reports is the size-weighted mean of the batch losses the events carry.
      const epoch0 = (events[0]!.loss! * 16 + events[1]!.loss! * 16 + events[2]!.loss! * 8) / 40;
      expect(history.history.loss![0] as number).toBeCloseTo(epoch0, 3);
      tf.dispose([xs, ys]);
      model.dispose();
      opt.dispose(); // a model does not dispose an optimizer it was given
    });
  });

  it('rejects what is not an optimizer or a pipeline, naming the function and the value', async () => {
    await withoutLeaks(() => {
      const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
      expect(() => withGradientPipeline({} as never, pipe)).toThrow(GradpipeError);
      expect(() => withGradientPipeline({} as never, pipe)).toThrow(
        'withGradientPipeline: optimizer must be a tf.Optimizer (e.g. tf.train.adam(1e-3)), got object',
      );
      expect(() => withGradientPipeline('adam' as never, pipe)).toThrow(
        'withGradientPipeline: optimizer must be a tf.Optimizer (e.g. tf.train.adam(1e-3)), got "adam"',
      );
      const sgd = tf.train.sgd(0.1);
      expect(() => withGradientPipeline(sgd, [clipByGlobalNorm({ maxNorm: 1 })] as never)).toThrow(
        'withGradientPipeline: pipe must be a GradientPipeline from @gradpipe/core, got Array(1)',
      );
      sgd.dispose();
    });
  });

  it('rejects a bad gradient with a clear error and changes nothing', async () => {
    await withoutLeaks(() => {
      const w = variable([1, 2], 'w');
      const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
      const opt = withGradientPipeline(tf.train.sgd(0.1), pipe);
      const ints = tf.tensor1d([1, 2], 'int32');
      expect(() => opt.applyGradients({ [w.name]: ints })).toThrow(
        `gradient ${JSON.stringify(w.name)} must be a float32 tf.Tensor, got dtype int32`,
      );
      expect(() => opt.applyGradients([{ name: w.name, tensor: [1, 2] as never }])).toThrow(
        `gradient ${JSON.stringify(w.name)} must be a tf.Tensor, got Array(2)`,
      );
      expect(() => opt.applyGradients([42 as never])).toThrow(
        'GradientPipelineOptimizer.applyGradients: gradients[0] must be a { name, tensor } NamedTensor, got 42',
      );
      expect(values(w)).toEqual([1, 2]);
      expect(opt.iterations).toBe(0);
      expect(pipe.stepCount).toBe(0);
      ints.dispose();
      opt.dispose();
      cleanup();
    });
  });

  it('1,000 wrapped steps leave tf.memory().numTensors unchanged', async () => {
    const w = variable([0.5, -0.5, 0.25, 2], 'w');
    const x = tf.tensor1d([1, 2, 3, 4]);
    const opt = withGradientPipeline(tf.train.adam(1e-3), new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]));
    opt.minimize(() => tf.sum(tf.square(tf.mul(w, x))) as tf.Scalar); // creates Adam's moments
    await withoutLeaks(() => {
      for (let i = 0; i < 1000; i++) opt.minimize(() => tf.sum(tf.square(tf.mul(w, x))) as tf.Scalar);
    });
    expect(opt.iterations).toBe(1001);
    x.dispose();
    opt.dispose();
    cleanup();
  });
});
