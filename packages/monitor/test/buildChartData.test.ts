import { buildChartData, type StepRecord } from '@gradpipe/monitor';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const run = (values: readonly (number | null)[], extra: (i: number) => Partial<StepRecord> = () => ({})): StepRecord[] =>
  values.map((v, step) => ({
    run: 'r',
    step,
    normBefore: v,
    normAfter: v === null ? null : Math.min(v, 1),
    clipped: v !== null && v > 1,
    skipped: v === null,
    threshold: 1,
    loss: v,
    ...extra(step),
  }));
const six = (v: number) => Number(v.toPrecision(6));

describe('buildChartData', () => {
  test('draws every step of a short run as is', () => {
    const data = buildChartData([{ run: 'r', files: ['r.jsonl'], records: run([0.5, 3, null, 2]) }], { maxBuckets: 10 });
    expect(data.bucketSize).toBe(1);
    const n = data.runs[0]!.norms;
    expect(n).toEqual({
      step: [0, 1, 2, 3],
      before: [0.5, 3, null, 2],
      after: [0.5, 1, null, 1],
      threshold: [1, 1, 1, 1],
      clipped: [0, 1, 0, 1],
      skipped: [0, 0, 1, 0],
      nonFinite: [0, 0, 1, 0],
      spike: [0, 0, 0, 0], // no spike before the window (100 steps) is full
    });
    expect(data.runs[0]!.loss).toEqual({ step: [0, 1, 2, 3], value: [0.5, 3, null, 2], nonFinite: [0, 0, 1, 0], spike: [0, 0, 0, 0] });
  });

  test('downsamples a long run to min and max per bucket: spikes and markers survive, summaries use every step', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => (i === 54_321 ? 1e4 : i === 77_777 ? null : 0.5 + (i % 7) / 100));
    const data = buildChartData([{ run: 'r', files: [], records: run(values) }], { maxBuckets: 1000 });
    expect(data.bucketSize).toBe(128); // the smallest power of two with 100000 / size <= 1000
    const n = data.runs[0]!.norms;
    expect(n.step.length).toBeLessThanOrEqual(2000);
    expect(Math.max(...n.before.filter((v): v is number => v !== null))).toBe(1e4);
    expect(Math.min(...n.before.filter((v): v is number => v !== null))).toBe(0.5);
    expect(n.clipped.reduce((a: number, b) => a + b, 0)).toBe(1); // only the spike's bucket
    expect(n.step[n.clipped.indexOf(1)]).toBeGreaterThanOrEqual(Math.floor(54_321 / 128) * 128);
    expect(n.spike.reduce((a: number, b) => a + b, 0)).toBe(1); // the spike is marked, in the same bucket
    expect(n.step[n.spike.indexOf(1)]).toBe(n.step[n.clipped.indexOf(1)]);
    expect(n.step[n.nonFinite.indexOf(1)]).toBe(Math.floor(77_777 / 128) * 128); // the first step of its bucket
    expect(n.skipped.indexOf(1)).toBeGreaterThan(-1);
    expect(data.runs[0]!.summary).toMatchObject({
      steps: 100_000,
      clipped: 1,
      skipped: 1,
      maxNorm: 1e4,
      firstNonFiniteStep: 77_777,
      normSpikes: 1,
    });
  });

  test('for any series, the drawn min and max are the true ones (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { nil: null, freq: 10 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (values, maxBuckets) => {
          const n = buildChartData([{ run: 'r', files: [], records: run(values) }], { maxBuckets }).runs[0]!.norms;
          const finite = values.filter((v): v is number => v !== null);
          const drawn = n.before.filter((v): v is number => v !== null);
          expect(n.step.length).toBeLessThanOrEqual(2 * maxBuckets);
          expect(drawn.length > 0).toBe(finite.length > 0);
          if (finite.length > 0) {
            expect(Math.max(...drawn)).toBe(six(Math.max(...finite)));
            expect(Math.min(...drawn)).toBe(six(Math.min(...finite)));
          }
          expect(n.nonFinite.includes(1)).toBe(values.includes(null));
          expect([...n.step].sort((a, b) => a - b)).toEqual(n.step); // uPlot needs ascending x
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  test('the loss series only has the steps that have a loss', () => {
    const records = run([1, 2, 3, 4], (i) => (i % 2 === 0 ? { loss: i / 10 } : { loss: undefined }));
    for (const r of records) if (r.loss === undefined) delete r.loss;
    expect(buildChartData([{ run: 'r', files: [], records }]).runs[0]!.loss).toEqual({
      step: [0, 2],
      value: [0, 0.2],
      nonFinite: [0, 0],
      spike: [0, 0],
    });
  });
});
