import { join } from 'node:path';
import { readJsonl, type StepRecord, summarizeRun } from '@gradpipe/monitor';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { simulate } from './simulate.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();

describe('summarizeRun', () => {
  test('pins the figures of a small hand-written run', () => {
    const records: StepRecord[] = [
      { run: 'a', step: 0, normBefore: 0.5, normAfter: 0.5, clipped: false, skipped: false, loss: 3 },
      { run: 'a', step: 1, normBefore: 4, normAfter: 1, clipped: true, skipped: false, loss: 2 },
      { run: 'a', step: 2, normBefore: Number.POSITIVE_INFINITY, normAfter: Number.NaN, clipped: false, skipped: true, loss: 2.5 },
      { run: 'a', step: 3, normBefore: 2, normAfter: 1, clipped: true, skipped: false },
      { run: 'a', step: 4, normBefore: 1, normAfter: 1, clipped: false, skipped: false, loss: 1.5 },
    ];
    expect(summarizeRun('a', records)).toEqual({
      run: 'a',
      steps: 5,
      clipped: 2,
      clippedFraction: 0.4,
      skipped: 1,
      maxNorm: 4,
      finalLoss: 1.5,
      firstNonFiniteStep: 2,
      firstNonFinite: { step: 2, field: 'normBefore', value: Number.POSITIVE_INFINITY },
      nonFiniteNorms: { nan: 0, infinity: 1, negInfinity: 0, unknown: 0 },
      nonFiniteLosses: { nan: 0, infinity: 0, negInfinity: 0, unknown: 0 },
      normSpikes: 0,
      lossSpikes: 0,
      firstStep: 0,
      lastStep: 4,
      layers: [],
    });
  });

  test('an empty run, a run without losses, and a non-finite last loss', () => {
    expect(summarizeRun('e', [])).toMatchObject({
      steps: 0,
      clippedFraction: 0,
      maxNorm: null,
      finalLoss: undefined,
      firstNonFiniteStep: undefined,
    });
    const noLoss: StepRecord[] = [{ run: 'n', step: 0, normBefore: 1, normAfter: 1, clipped: false, skipped: false }];
    expect(summarizeRun('n', noLoss)).toMatchObject({ steps: 1, finalLoss: undefined, firstNonFiniteStep: undefined });
    const nanLoss: StepRecord[] = [...noLoss, { run: 'n', step: 1, loss: Number.NaN }];
    expect(summarizeRun('n', nanLoss)).toMatchObject({
      steps: 1,
      finalLoss: Number.NaN,
      firstNonFiniteStep: 1,
      firstNonFinite: { step: 1, field: 'loss', value: Number.NaN },
    });
    // An older log's null: non-finite, kind unknown.
    const oldLog: StepRecord[] = [
      ...noLoss,
      { run: 'n', step: 1, normBefore: null, normAfter: null, clipped: false, skipped: true, loss: null },
    ];
    expect(summarizeRun('n', oldLog)).toMatchObject({
      finalLoss: null,
      firstNonFinite: { step: 1, field: 'normBefore', value: null },
      nonFiniteNorms: { nan: 0, infinity: 0, negInfinity: 0, unknown: 1 },
      nonFiniteLosses: { nan: 0, infinity: 0, negInfinity: 0, unknown: 1 },
    });
  });

  test('agrees with the pipeline stats of a recorded run', async () => {
    const path = join(tmp(), 'sim.jsonl');
    const stats = await simulate(path, { steps: 400, maxNorm: 1.2, nanSteps: [150, 151, 300] });
    const summary = summarizeRun('sim', await readJsonl(path));
    const finite = stats.filter((s) => Number.isFinite(s.normBefore));
    expect(summary).toMatchObject({
      run: 'sim',
      steps: 400,
      clipped: stats.filter((s) => s.clipped).length,
      clippedFraction: stats.filter((s) => s.clipped).length / 400,
      skipped: 3,
      maxNorm: Math.max(...finite.map((s) => s.normBefore)),
      finalLoss: stats[399]!.loss,
      firstNonFiniteStep: 150,
      firstNonFinite: { step: 150, field: 'normBefore', value: Number.NaN },
      nonFiniteNorms: { nan: 3, infinity: 0, negInfinity: 0, unknown: 0 },
      firstStep: 0,
      lastStep: 399,
      layers: [],
    });
  });

  test('counts match a direct count for any run (property)', () => {
    const record = fc.record({
      normBefore: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null }),
      clipped: fc.boolean(),
      skipped: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), (rows) => {
        const records: StepRecord[] = rows.map((r, step) => ({ run: 'p', step, normAfter: r.normBefore, ...r }));
        const s = summarizeRun('p', records);
        expect(s.steps).toBe(rows.length);
        expect(s.clipped).toBe(rows.filter((r) => r.clipped).length);
        expect(s.skipped).toBe(rows.filter((r) => r.skipped).length);
        const finite = rows.flatMap((r) => (r.normBefore === null ? [] : [r.normBefore]));
        expect(s.maxNorm).toBe(finite.length ? Math.max(...finite) : null);
        const firstNull = rows.findIndex((r) => r.normBefore === null);
        expect(s.firstNonFiniteStep).toBe(firstNull === -1 ? undefined : firstNull);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
