import { makeRegression } from '@gradpipe/example-seed-data';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { regressionTensors } from '../src/regressionTensors.js';
import { resultsTable } from '../src/resultsTable.js';
import { type ExperimentResult, runExperiment } from '../src/runExperiment.js';

/** The full seed experiment (50 epochs, batch 128, SGD 0.07 momentum 0.8) for one seed: ~5 s on the cpu backend. */
describe('the seed regression experiment in tfjs', () => {
  const results: ExperimentResult[] = [];
  let tensorsBefore = 0;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tensorsBefore = tf.memory().numTensors;
    const data = regressionTensors(makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed: 1 }));
    for (const clipping of ['none', 'clipvalue', 'globalNorm'] as const) results.push(await runExperiment({ clipping, data, seed: 1 }));
    tf.dispose([data.x, data.y]);
  });

  it('leaks no tensor over three full runs', () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('records every step: 8 batches × 50 epochs, norms before and after clipping, and the loss', () => {
    for (const r of results) {
      expect(r.steps).toHaveLength(400);
      expect(r.epochLosses).toHaveLength(50);
    }
    const [, clipvalue, globalNorm] = results;
    expect(Number.isFinite(clipvalue!.steps[0]!.loss)).toBe(true);
    expect(globalNorm!.steps.every((s) => s.normAfter <= 1)).toBe(true);
    expect(globalNorm!.steps.some((s) => s.normBefore > 1)).toBe(true); // the clipping did work
  });

  it('without clipping the loss is NaN within the first epochs', () => {
    const none = results[0]!;
    expect(none.firstNanEpoch).not.toBeNull();
    expect(none.firstNanEpoch!).toBeLessThanOrEqual(2);
    expect(Number.isNaN(none.finalLoss)).toBe(true);
  });

  it('clipping by value 1.0 keeps training finite', () => {
    const clipvalue = results[1]!;
    expect(clipvalue.firstNanEpoch).toBeNull();
    expect(clipvalue.epochLosses.every(Number.isFinite)).toBe(true);
  });

  it('clipping by global norm 1.0 brings the loss below 5', () => {
    const globalNorm = results[2]!;
    expect(globalNorm.firstNanEpoch).toBeNull();
    expect(globalNorm.finalLoss).toBeLessThan(5);
  });

  it('prints the table beside the PyTorch figures', () => {
    const table = resultsTable(results);
    expect(table).toMatch(/\| no clipping +\| 0 \(all seeds\) +\| 0 +\| NaN +\| NaN +\|/);
    expect(table).toContain('| clip by global norm 1.0 | never');
  });
});
