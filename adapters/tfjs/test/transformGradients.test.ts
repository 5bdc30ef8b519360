import { clipByGlobalNorm, GradientPipeline, nanGuard } from '@gradpipe/core';
import { transformGradients } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

describe.each(BACKENDS)('transformGradients in a custom loop on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('variableGrads → transformGradients → applyGradients, with new tensors out and the inputs untouched', async () => {
    await withoutLeaks(() => {
      const init = tf.tensor1d([3, 4]);
      const w = tf.variable(init, true, `custom_w_${backend}`);
      init.dispose();
      const optimizer = tf.train.sgd(1);
      const pipe = new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]);
      const { value, grads } = tf.variableGrads(() => tf.mul(0.5, tf.sum(tf.square(w))) as tf.Scalar, [w]);
      const result = transformGradients(pipe, grads, { loss: value });
      expect(result.skipped).toBe(false);
      expect(result.stats.normBefore).toBeCloseTo(5, 5);
      expect(result.stats.loss).toBeCloseTo(12.5, 5);
      expect(Array.from(grads[w.name]!.dataSync())).toEqual([3, 4]);
      expect(result.grads[w.name]).not.toBe(grads[w.name]);
      optimizer.applyGradients(result.grads);
      Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([3 - 0.6, 4 - 0.8][i]!, 5));
      tf.dispose([value, grads, result.grads, w]);
      optimizer.dispose();
    });
  });

  it('hands through an unchanged gradient as a clone the caller can dispose', async () => {
    await withoutLeaks(() => {
      const g = tf.tensor1d([0.1, 0.2]);
      const pipe = new GradientPipeline([nanGuard()]);
      const result = transformGradients(pipe, { g });
      expect(result.grads.g).not.toBe(g);
      expect(Array.from(result.grads.g!.dataSync())).toEqual(Array.from(g.dataSync()));
      tf.dispose(result.grads);
      expect(g.isDisposed).toBe(false);
      g.dispose();
    });
  });

  it('rejects a non-pipeline and a non-map with errors naming transformGradients', async () => {
    await withoutLeaks(() => {
      const g = tf.tensor1d([1]);
      expect(() => transformGradients({} as never, { g })).toThrow(
        'transformGradients: pipe must be a GradientPipeline from @gradpipe/core, got object',
      );
      expect(() => transformGradients(new GradientPipeline([]), [g] as never)).toThrow(
        'transformGradients: grads must be a NamedTensorMap (an object of named tf.Tensors), got Array(1)',
      );
      g.dispose();
    });
  });
});
