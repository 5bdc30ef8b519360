/**
 * Keras 3's optimizer clipping tests, ported to `withClipping` (Keras' `clipnorm`, `clipvalue` and
 * `global_clipnorm` for any tf.Optimizer).
 *
 * Source: keras-team/keras at 3422977a, `keras/src/optimizers/`:
 * - `optimizer_test.py::OptimizerTest`: `test_clip_args`, `test_clip_norm`, `test_clip_value`,
 *   `test_global_clip_norm`, `test_empty_gradients` (its second half; the first is pending);
 * - `test_clip_norm` / `test_clip_value` of `sgd_test.py`, `adam_test.py`, `adadelta_test.py`, `adagrad_test.py`,
 *   `adamax_test.py`, `rmsprop_test.py` — the Keras optimizers tfjs has (AdamW, Adafactor, Ftrl, Lamb, Lion, Muon,
 *   Nadam and ScheduleFreeAdamW have no tfjs counterpart); they call `optimizer._clip_gradients`, here
 *   `transformGradients(optimizer.pipeline, …)`, the clipping `applyGradients` runs;
 * - `adam_test.py::test_clipnorm_indexed_slices` (an Embedding model fitted with Adam(clipnorm=100)).
 *
 * The pure clipping math is also ported in `packages/core/test/peers/keras.test.ts`. Every test runs on the cpu and
 * wasm backends and checks that no tensor leaks. Tolerances are Keras' `assertAllClose` defaults (1e-6, 1e-6).
 */

import { GradpipeError } from '@gradpipe/core';
import { transformGradients, withClipping } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, useBackend, withoutLeaks } from '../backends.js';

const close = (actual: ArrayLike<number>, expected: readonly number[]) => {
  expect(actual.length).toBe(expected.length);
  Array.from(actual).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(expected[i]!)));
};

/** The tfjs optimizers with a Keras counterpart whose test file has test_clip_norm / test_clip_value. */
const OPTIMIZERS: [string, () => tf.Optimizer][] = [
  ['SGD (sgd_test.py)', () => tf.train.sgd(0.01)],
  ['Adam (adam_test.py)', () => tf.train.adam()],
  ['Adadelta (adadelta_test.py)', () => tf.train.adadelta()],
  ['Adagrad (adagrad_test.py)', () => tf.train.adagrad(0.01)],
  ['Adamax (adamax_test.py)', () => tf.train.adamax()],
  ['RMSprop (rmsprop_test.py)', () => tf.train.rmsprop(0.01)],
];

/** `optimizer._clip_gradients([grad])`: the gradient after the optimizer's clipping pipeline. */
function clipGradients(optimizer: ReturnType<typeof withClipping>, grad: number[]): number[] {
  const g = tf.tensor1d(grad);
  const { grads } = transformGradients(optimizer.pipeline, { g });
  const out = Array.from(grads.g!.dataSync());
  tf.dispose([g, grads]);
  return out;
}

describe.each(BACKENDS)('Keras optimizer clipping via withClipping, on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  let counter = 0;
  /** A variable with a name unique to this test run (tfjs keeps a global registry of names). */
  const variable = (values: number[], shape: number[]) =>
    tf.tidy(() => tf.variable(tf.tensor(values, shape), true, `keras_peer_${backend}_${counter++}`));

  it('test_clip_args: each option is kept; two of clipnorm, clipvalue, global_clipnorm are refused', async () => {
    await withoutLeaks(() => {
      const sgd = tf.train.sgd(1);
      const clipnorm = withClipping(sgd, { clipnorm: 0.1 }).pipeline.transforms[0]!;
      expect([clipnorm.kind, clipnorm.config.maxNorm]).toEqual(['clipByNorm', 0.1]); // optimizer.clipnorm == 0.1
      const clipvalue = withClipping(sgd, { clipvalue: 0.1 }).pipeline.transforms[0]!;
      expect(clipvalue.kind).toBe('clipByValue');
      expect(clipvalue.config).toMatchObject({ min: -0.1, max: 0.1 });
      const global = withClipping(sgd, { globalClipnorm: 0.1 }).pipeline.transforms[0]!;
      expect([global.kind, global.config.maxNorm]).toEqual(['clipByGlobalNorm', 0.1]);
      // "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set."
      for (const both of [
        { clipnorm: 0.1, clipvalue: 0.1 },
        { clipnorm: 0.1, globalClipnorm: 0.1 },
      ]) {
        expect(() => withClipping(sgd, both)).toThrow(GradpipeError);
        expect(() => withClipping(sgd, both)).toThrow(/only one of clipnorm, clipvalue and globalClipnorm can be set/);
      }
      sgd.dispose();
    });
  });

  describe.each(OPTIMIZERS)('%s', (_name, make) => {
    it('test_clip_norm: clipnorm=1 clips [100, 100] to [√2/2, √2/2]', async () => {
      await withoutLeaks(() => {
        const opt = withClipping(make(), { clipnorm: 1 });
        close(clipGradients(opt, [100, 100]), [2 ** 0.5 / 2, 2 ** 0.5 / 2]);
        opt.dispose();
      });
    });

    it('test_clip_value: clipvalue=1 clips [100, 100] to [1, 1]', async () => {
      await withoutLeaks(() => {
        const opt = withClipping(make(), { clipvalue: 1 });
        expect(clipGradients(opt, [100, 100])).toEqual([1, 1]);
        opt.dispose();
      });
    });
  });

  it('test_global_clip_norm: global_clipnorm=1 clips [50, 100] to grad / ‖grad‖', async () => {
    await withoutLeaks(() => {
      const opt = withClipping(tf.train.sgd(1), { globalClipnorm: 1 });
      const norm = Math.hypot(50, 100);
      close(clipGradients(opt, [50, 100]), [50 / norm, 100 / norm]);
      opt.dispose();
    });
  });

  it('the clipped gradient is what apply_gradients applies: SGD(1) moves a variable by −clip([100, 100])', async () => {
    await withoutLeaks(() => {
      for (const [options, expected] of [
        [{ clipnorm: 1 }, [2 ** 0.5 / 2, 2 ** 0.5 / 2]],
        [{ clipvalue: 1 }, [1, 1]],
        [{ globalClipnorm: 1 }, [2 ** 0.5 / 2, 2 ** 0.5 / 2]],
      ] as const) {
        const v = variable([0, 0], [2]);
        const opt = withClipping(tf.train.sgd(1), options);
        const g = tf.tensor1d([100, 100]);
        opt.applyGradients({ [v.name]: g });
        close(
          Array.from(v.dataSync(), (x) => -x),
          expected,
        );
        tf.dispose([v, g]);
        opt.dispose();
      }
    });
  });

  it('test_empty_gradients, filtering: a variable without a gradient is left alone, the other is updated', async () => {
    // Keras: SGD(1), v = [[3, 4], [5, 6]] with grad None, v2 = the same with grad ones → v unchanged, v2 − 1 (Keras
    // also warns "Gradients do not exist for variables …"; the tfjs adapter passes null gradients over silently).
    // A global_clipnorm of 10 does not clip ones(2, 2) (norm 2), so the update is Keras' unclipped one.
    await withoutLeaks(() => {
      const v = variable([3, 4, 5, 6], [2, 2]);
      const v2 = variable([3, 4, 5, 6], [2, 2]);
      const opt = withClipping(tf.train.sgd(1), { globalClipnorm: 10 });
      const g2 = tf.ones([2, 2]);
      opt.applyGradients([
        { name: v.name, tensor: null as unknown as tf.Tensor },
        { name: v2.name, tensor: g2 },
      ]);
      expect(Array.from(v.dataSync())).toEqual([3, 4, 5, 6]);
      close(v2.dataSync(), [2, 3, 4, 5]);
      tf.dispose([v, v2, g2]);
      opt.dispose();
    });
  });
});

// The Embedding's gradient needs tfjs's UnsortedSegmentSum kernel, which tfjs-backend-wasm does not have (tfjs
// itself throws "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'" there), so this case runs on cpu.
describe('Keras test_clipnorm_indexed_slices via withClipping, on cpu', () => {
  beforeAll(() => useBackend('cpu'));

  it('test_clipnorm_indexed_slices: Embedding(10, 4) → Flatten → Dense(2) fits with Adam(clipnorm=100)', async () => {
    // Keras issue 18985: clipnorm on the sparse (IndexedSlices) gradient of an Embedding. tfjs gives the embedding a
    // dense gradient; the port checks that such a model trains through withClipping, finite, without leaks.
    await withoutLeaks(async () => {
      const model = tf.sequential({
        layers: [tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 5 }), tf.layers.flatten(), tf.layers.dense({ units: 2 })],
      });
      const opt = withClipping(tf.train.adam(), { clipnorm: 100 });
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const x = tf.ones([8, 5]);
      const y = tf.zeros([8, 2]);
      const history = await model.fit(x, y, { verbose: 0 });
      expect(Number.isFinite(history.history.loss![0] as number)).toBe(true);
      // One batch of 8: one step through the clipping pipeline, the embedding's gradient among its tensors.
      expect(opt.pipeline.stepCount).toBe(1);
      expect(opt.lastStats?.nonFinite).toEqual([]);
      expect(Number.isFinite(opt.lastStats?.normBefore)).toBe(true);
      tf.dispose([x, y]);
      model.dispose();
      opt.dispose();
    });
  });
});
