import { GradpipeError } from '@gradpipe/core';
import { withClipping } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

/** One SGD(lr 1) step from zero weights with gradients a = [3, 4] (norm 5) and b = [0.5] : the applied update. */
function updateWith(options: Parameters<typeof withClipping>[1]): { a: number[]; b: number[] } {
  const [a, b] = tf.tidy(() => [
    tf.variable(tf.zeros([2]), true, `a_${Math.random()}`),
    tf.variable(tf.zeros([1]), true, `b_${Math.random()}`),
  ]);
  const opt = withClipping(tf.train.sgd(1), options);
  const grads = { [a.name]: tf.tensor1d([3, 4]), [b.name]: tf.tensor1d([0.5]) };
  opt.applyGradients(grads);
  const out = { a: Array.from(a.dataSync(), (v) => -v), b: Array.from(b.dataSync(), (v) => -v) };
  tf.dispose([a, b, ...Object.values(grads)]);
  opt.dispose();
  return out;
}

describe.each(BACKENDS)('withClipping (Keras 3 semantics) on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('clipnorm clips each variable on its own', async () => {
    const { a, b } = await withoutLeaks(() => updateWith({ clipnorm: 1 }));
    a.forEach((v, i) => expect(v).toBeCloseTo([0.6, 0.8][i]!, 5));
    expect(b[0]).toBeCloseTo(0.5, 6); // norm 0.5 ≤ 1: untouched
  });

  it('globalClipnorm scales all variables by one factor', async () => {
    const { a, b } = await withoutLeaks(() => updateWith({ globalClipnorm: 1 }));
    const global = Math.hypot(3, 4, 0.5);
    a.forEach((v, i) => expect(v).toBeCloseTo([3 / global, 4 / global][i]!, 5));
    expect(b[0]).toBeCloseTo(0.5 / global, 5);
  });

  it('clipvalue clips every element', async () => {
    const { a, b } = await withoutLeaks(() => updateWith({ clipvalue: 1 }));
    expect(a).toEqual([1, 1]);
    expect(b).toEqual([0.5]);
  });

  it('rejects more than one option, none, unknown keys and non-positive thresholds, naming withClipping and the value', async () => {
    await withoutLeaks(() => {
      const sgd = tf.train.sgd(0.1);
      const bad = (options: unknown) => () => withClipping(sgd, options as never);
      expect(bad({ clipnorm: 1, clipvalue: 0.5 })).toThrow(GradpipeError);
      expect(bad({ clipnorm: 1, clipvalue: 0.5 })).toThrow(
        'withClipping: only one of clipnorm, clipvalue and globalClipnorm can be set, and one must be; got clipnorm=1, clipvalue=0.5',
      );
      expect(bad({})).toThrow(
        'withClipping: only one of clipnorm, clipvalue and globalClipnorm can be set, and one must be; none was given',
      );
      expect(bad({ global_clipnorm: 1 })).toThrow(
        'withClipping: unknown option "global_clipnorm" (did you mean globalClipnorm?); known: clipnorm, clipvalue, globalClipnorm',
      );
      expect(bad({ clipnorm: 0 })).toThrow('withClipping: clipnorm must be a positive finite number, got 0');
      expect(bad({ clipvalue: -1 })).toThrow('withClipping: clipvalue must be a positive finite number, got -1');
      expect(bad({ globalClipnorm: Infinity })).toThrow('withClipping: globalClipnorm must be a positive finite number, got Infinity');
      expect(bad(null)).toThrow('withClipping: options must be an object with one of clipnorm, clipvalue, globalClipnorm, got null');
      expect(() => withClipping({ minimize: 1 } as never, { clipnorm: 1 })).toThrow(
        'withClipping: optimizer must be a tf.Optimizer (e.g. tf.train.adam(1e-3)), got object',
      );
      sgd.dispose();
    });
  });
});
