import { loadDigits } from '@gradpipe/example-mnist-data';
import { describe, expect, it } from 'vitest';
import { trainDigits } from '../src/trainDigits.js';

/** Short runs (40 digits per class, 2 epochs) of both exported models, every run of the example. */
describe('the MNIST ONNX example', () => {
  const { train, test } = loadDigits({ perDigit: 40, testFraction: 0.25 });

  it.each([
    ['lstm', 'none'],
    ['lstm', 'value'],
    ['lstm', 'norm'],
    ['cnn', 'norm'],
  ] as const)('trains the PyTorch-exported %s (%s clipping) on real digits and tests on held-out ones', async (model, clip) => {
    const losses: number[] = [];
    let clipped = 0;
    const result = await trainDigits({
      model,
      clip,
      train,
      test,
      epochs: 2,
      batchSize: 16,
      learningRate: 3e-3,
      onStep: (loss, stats) => {
        losses.push(loss);
        if (stats.clipped) clipped++;
      },
    });
    expect(result.steps).toBe(2 * Math.ceil(300 / 16));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(clipped).toBe(result.clippedSteps);
    if (clip === 'none') expect(clipped).toBe(0);
    if (clip === 'norm') expect(clipped).toBeGreaterThan(0); // early gradients exceed norm 2 per tensor
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
    // better than chance (10%) on digits it never saw
    expect(result.testAccuracy).toBeGreaterThan(0.2);
  });
});
