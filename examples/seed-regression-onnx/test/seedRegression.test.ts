import { describe, expect, test } from 'vitest';
import { checkExport } from '../src/checkExport.js';
import { runExperiment } from '../src/runExperiment.js';

describe('the seed experiment through ONNX Runtime (50 epochs, batch 128)', () => {
  test('without clipping the loss diverges to NaN in the first epochs', async () => {
    const { firstNanEpoch, epochLosses, trainer } = await runExperiment({ run: 'none' });
    expect(firstNanEpoch).toBeDefined();
    expect(firstNanEpoch!).toBeLessThanOrEqual(2);
    expect(epochLosses.at(-1)).toBeNaN();
    await trainer.release();
  });

  test('with clipByGlobalNorm(1) it converges below 5, and the export predicts exactly like the trainer', async () => {
    const { firstNanEpoch, epochLosses, clippedSteps, trainer, data } = await runExperiment({ run: 'global' });
    expect(firstNanEpoch).toBeUndefined();
    expect(epochLosses).toHaveLength(50);
    expect(epochLosses.at(-1)!).toBeLessThan(5);
    expect(epochLosses.at(-1)!).toBeLessThan(epochLosses[0]! / 100);
    expect(clippedSteps).toBeGreaterThan(0);
    const { maxDifference, mse } = await checkExport(trainer, data);
    expect(maxDifference).toBeLessThanOrEqual(1e-5);
    expect(mse).toBeLessThan(5);
    await trainer.release();
  });

  test('clip by value keeps training finite', async () => {
    const { firstNanEpoch, trainer } = await runExperiment({ run: 'value' });
    expect(firstNanEpoch).toBeUndefined();
    await trainer.release();
  });
});
