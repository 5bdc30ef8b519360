import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildChartData, readJsonl } from '@gradpipe/monitor';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { chartDataFrom, chartOptions } from '../src/buildChartData.js';
import { streamLog } from '../src/streamLog.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();

/** Writes lines the way the recorder does: non-finite numbers spelled out. */
const jsonl = (lines: readonly object[]) =>
  lines.map((l) => `${JSON.stringify(l, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}\n`).join('');

const value = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: 1e-4, max: 1e4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0) },
);

/** A run's lines: step lines, notes before or after them, steps logged again, and lines moved far away. */
const runLines = (run: string) =>
  fc
    .record({
      steps: fc.integer({ min: 0, max: 160 }),
      seed: fc.array(fc.tuple(value, value, fc.boolean(), fc.boolean(), fc.option(value, { nil: undefined })), {
        minLength: 160,
        maxLength: 160,
      }),
      layers: fc.boolean(),
      notes: fc.array(fc.tuple(fc.nat(159), fc.integer({ min: -3, max: 3 }), value), { maxLength: 30 }),
      again: fc.array(fc.tuple(fc.nat(159), value), { maxLength: 20 }),
      moves: fc.array(fc.tuple(fc.nat(400), fc.nat(400)), { maxLength: 6 }),
    })
    .map(({ steps, seed, layers, notes, again, moves }) => {
      const lines: object[] = [];
      for (let step = 0; step < steps; step++) {
        const [before, after, clipped, skipped, loss] = seed[step]!;
        const line: Record<string, unknown> = { run, step, normBefore: before, normAfter: after, clipped, skipped, threshold: 1 };
        if (loss !== undefined) line['loss'] = loss;
        if (layers) line['tensorNorms'] = { a: before, b: after / 1e9, ...(step > 20 ? { late: before * 3 } : {}) };
        lines.push(line);
      }
      // Notes for steps around where they are written (a loss known a little later, or before), or for no step line at all.
      for (const [at, offset, loss] of notes)
        lines.splice(Math.min(at, lines.length), 0, { run, step: Math.max(0, at + offset), note: true, loss });
      // A resumed run logging some steps again, with new figures.
      for (const [step, before] of again) lines.push({ run, step, normBefore: before, normAfter: 1, clipped: true, skipped: false });
      for (const [from, to] of moves) {
        if (lines.length < 2) break;
        const [line] = lines.splice(from % lines.length, 1);
        lines.splice(to % lines.length, 0, line!);
      }
      return lines;
    });

describe('streaming the log gives what merging it in memory gives', () => {
  test('for any lines in any order, with windows small enough that lines come late (property)', async () => {
    const dir = tmp();
    let n = 0;
    const stats = { reads: 0 };
    await fc.assert(
      fc.asyncProperty(
        runLines('a'),
        runLines('b'),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 50 }),
        async (a, b, window, rangeSteps, maxBuckets) => {
          // Interleave the two runs' lines the way two recorders flushing into one file would.
          const lines: object[] = [];
          for (let i = 0; i < Math.max(a.length, b.length); i++)
            lines.push(...(i < a.length ? [a[i]!] : []), ...(i < b.length ? [b[i]!] : []));
          const path = join(dir, `log-${n++}.jsonl`);
          writeFileSync(path, jsonl(lines));
          const { title, accumulator } = chartOptions('test', { maxBuckets, spikeWindow: 5, spikeZ: 3 });
          const streamed = await streamLog(path, 'test', accumulator, undefined, window, rangeSteps, stats);
          const fromStream = chartDataFrom(
            streamed.map((r) => ({ run: r.run, files: [path], acc: r.acc })),
            title,
            accumulator,
          );
          const records = await readJsonl(path);
          const runs = [...new Set(records.map((r) => r.run))].map((run) => ({
            run,
            files: [path],
            records: records.filter((r) => r.run === run),
          }));
          const inMemory = buildChartData(runs, { title, maxBuckets, spikeWindow: 5, spikeZ: 3 });
          expect(fromStream).toEqual(inMemory);
        },
      ),
      { seed: 7, numRuns: 120 },
    );
    expect(stats.reads).toBeGreaterThan(n + 100); // many of the logs had late lines and took the exact re-reads
  });

  test('a run resumed from long before its crash is placed exactly, however far back', async () => {
    const path = join(tmp(), 'resumed.jsonl');
    const line = (step: number, normBefore: number) => ({
      run: 'r',
      step,
      normBefore,
      normAfter: Math.min(1, normBefore),
      clipped: normBefore > 1,
      skipped: false,
      loss: 1 / (step + 1),
    });
    const lines: object[] = [];
    for (let step = 0; step < 20_000; step++) lines.push(line(step, step === 12_345 ? 1e6 : 0.5)); // the first attempt, with a spike
    for (let step = 10_000; step < 30_000; step++) lines.push(line(step, 0.5)); // resumed from step 10000: the spike is gone
    writeFileSync(path, jsonl(lines));
    const { title, accumulator } = chartOptions('test', {});
    const stats = { reads: 0 };
    const streamed = await streamLog(path, 'test', accumulator, undefined, undefined, undefined, stats); // the real window: 10000 steps back is late
    expect(stats.reads).toBe(3); // the first read, then the steps before 10000 and the late range together, then the steps after it
    const summary = chartDataFrom(
      streamed.map((r) => ({ run: r.run, files: [path], acc: r.acc })),
      title,
      accumulator,
    ).runs[0]!.summary;
    expect(summary).toMatchObject({ steps: 30_000, clipped: 0, maxNorm: 0.5, normSpikes: 0, lastStep: 29_999 });
  });
});
