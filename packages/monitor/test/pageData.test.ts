/**
 * The report page's check of its data (src/page/chartData.ts, pure code, so tested here in Node): it takes every
 * ChartData that buildChartData makes, through the JSON the page embeds, back to the same data; anything else it
 * refuses, saying where and what is wrong.
 */
import { buildChartData, type StepRecord } from '@gradpipe/monitor';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringifyKeepingNonFinite } from '../src/nonFinite.js';
import { checkChartData, parseChartData } from '../src/page/chartData.js';

const special = fc.constantFrom(Number.NaN, Infinity, -Infinity, null);
const norm = fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 1e30, noNaN: true }) }, { weight: 1, arbitrary: special });
const loss = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }).map((v) => v + 0) },
  { weight: 1, arbitrary: special },
);
const layerNames = ['embedding', 'lstm/kernel', 'dense/kernel'];

/** Steps of one run: norms, sometimes a loss, sometimes per-tensor norms (layers may appear only later on). */
const records = (run: string) =>
  fc
    .array(
      fc.record({
        normBefore: norm,
        loss: fc.option(loss, { nil: undefined }),
        threshold: fc.option(fc.double({ min: 0.1, max: 10, noNaN: true }), { nil: undefined }),
        layers: fc.option(fc.subarray(layerNames, { minLength: 1 }), { nil: undefined }),
        layerNorm: norm,
      }),
      { maxLength: 120 },
    )
    .map((steps) =>
      steps.map((s, step): StepRecord => {
        const r: StepRecord = {
          run,
          step,
          normBefore: s.normBefore,
          normAfter: s.normBefore,
          clipped: false,
          skipped: s.normBefore === null,
        };
        if (s.loss !== undefined) r.loss = s.loss;
        if (s.threshold !== undefined) r.threshold = s.threshold;
        if (s.layers !== undefined) r.tensorNorms = Object.fromEntries(s.layers.map((name, i) => [name, i === 0 ? s.layerNorm : 0.5 + i]));
        return r;
      }),
    );

describe("the page's check of its data", () => {
  test('takes the ChartData of any runs back from the embedded JSON, non-finite figures included (property)', () => {
    fc.assert(
      fc.property(fc.array(records('r'), { minLength: 0, maxLength: 3 }), fc.integer({ min: 1, max: 50 }), (runs, maxBuckets) => {
        const data = buildChartData(
          runs.map((rs, i) => ({ run: `run ${i}`, files: [`run${i}.jsonl`], records: rs })),
          { maxBuckets, title: 'a <title> & "quotes"' },
        );
        const checked = parseChartData(stringifyKeepingNonFinite(data));
        if (!checked.ok) expect.fail(checked.problems.join('\n'));
        expect(checked.data).toEqual(data);
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  const valid = () =>
    JSON.parse(
      stringifyKeepingNonFinite(
        buildChartData([
          { run: 'r', files: ['r.jsonl'], records: [0.5, 3, Number.NaN, 2].map((v, step) => ({ run: 'r', step, normBefore: v, loss: v })) },
        ]),
      ),
    );

  test('reads NaN and ±Infinity spelled out back into numbers', () => {
    const checked = checkChartData(valid());
    expect(checked.ok && checked.data.runs[0]!.summary.firstNonFinite).toEqual({ step: 2, field: 'normBefore', value: Number.NaN });
    expect(checked.ok && checked.data.runs[0]!.norms.before).toEqual([0.5, 3, null, 2]);
  });

  test('refuses what is not chart data, saying where and what is wrong', () => {
    expect(parseChartData('{"runs": [')).toEqual({ ok: false, problems: [expect.stringMatching(/^the data is not JSON: /)] });
    expect(checkChartData(5)).toEqual({ ok: false, problems: ['the data: expected an object, got 5'] });
    expect(checkChartData([])).toEqual({ ok: false, problems: ['the data: expected an object, got an array of 0'] });

    const noRuns = valid();
    delete noRuns.runs;
    expect(checkChartData(noRuns)).toEqual({ ok: false, problems: ['runs: expected an array, got nothing'] });

    const short = valid();
    short.runs[0].norms.after.pop();
    expect(checkChartData(short)).toEqual({ ok: false, problems: ['runs[0].norms.after: has 3 entries for 4 steps'] });

    const bad = valid();
    bad.runs[0].norms.before[1] = 'x';
    bad.runs[0].norms.before[3] = {};
    bad.runs[0].summary.finalLoss = 'Inf';
    bad.runs[0].norms.clipped[0] = true;
    bad.spikes.z = '6';
    expect(checkChartData(bad)).toEqual({
      ok: false,
      problems: [
        'runs[0].summary.finalLoss: expected a number, "NaN", "Infinity" or "-Infinity", got "Inf"',
        'runs[0].norms.before[1]: expected a number or null, got "x" (2 bad values in runs[0].norms.before)',
        'runs[0].norms.clipped[0]: expected 0 or 1, got true',
        'spikes.z: expected a finite number, got "6"',
      ],
    });
  });

  test('lists a few problems, and how many more there are', () => {
    const data = valid();
    data.runs = Array.from({ length: 12 }, () => ({ run: 1 }));
    const checked = checkChartData(data);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toHaveLength(9);
    expect(checked.problems[0]).toBe('runs[0].run: expected a string, got 1');
    expect(checked.problems[8]).toMatch(/^… and \d+ more$/);
  });
});
