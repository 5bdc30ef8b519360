import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDigits } from '../src/loadDigits.js';
import { trainLstm } from '../src/trainLstm.js';

/** A short run (60 digits per class, 16 LSTM units, 2 epochs) of the MNIST LSTM example on the cpu backend. */
describe('the MNIST LSTM example', () => {
  beforeAll(() => tf.setBackend('cpu'));

  it('splits the real digits of the mnist package into disjoint training and held-out sets', () => {
    const before = tf.memory().numTensors;
    const { train, test } = loadDigits({ perDigit: 50, testFraction: 0.2 });
    expect(train.x.shape).toEqual([400, 28, 28]);
    expect(test.x.shape).toEqual([100, 28, 28]);
    expect(test.labels.filter((l) => l === 7)).toHaveLength(10);
    const pixels = train.x.dataSync();
    expect(Math.min(...pixels.subarray(0, 784))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pixels.subarray(0, 784))).toBeLessThanOrEqual(1);
    tf.dispose([train.x, train.y, test.x, test.y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([{ clipvalue: 1 }, { clipnorm: 2 }])(
    'trains with withClipping(%o), every step through the pipeline, and tests on held-out digits',
    async (clipping) => {
      const { train, test } = loadDigits({ perDigit: 60, testFraction: 0.2 });
      const before = tf.memory().numTensors;
      const losses: number[] = [];
      let recorded = 0;
      const result = await trainLstm({
        train,
        test,
        clipping,
        epochs: 2,
        batchSize: 32,
        units: 16,
        learningRate: 1e-2,
        onStep: (e) => losses.push(e.loss!),
        onPipeline: (pipe) => pipe.events$.subscribe(() => recorded++),
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(result.steps).toBe(2 * Math.ceil(480 / 32));
      expect(losses).toHaveLength(result.steps);
      expect(recorded).toBe(result.steps); // what a recorder given the pipeline (as main.ts does) would log
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(result.testAccuracy).toBeLessThanOrEqual(1);
      // Learning happened: the last steps' loss is below the first steps' (ln 10 ≈ 2.30 at chance).
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
      tf.dispose([train.x, train.y, test.x, test.y]);
    },
  );
});
