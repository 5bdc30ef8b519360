import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GradientPipeline } from '@gradpipe/core';
import { readJsonl, recordJsonl, type StepEventSource, writeReport } from '@gradpipe/monitor';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { simulate } from './simulate.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();

/** An event source the test drives by hand, with events of any figures. */
function source() {
  const observers: Parameters<StepEventSource['subscribe']>[0][] = [];
  const events$: StepEventSource = { subscribe: (o) => (observers.push(o), { unsubscribe() {} }) };
  const emit = (step: number, normBefore: number, normAfter: number, loss: number, tensorNorms: Record<string, number>) => {
    for (const o of observers)
      o.next({
        step,
        normBefore,
        normAfter,
        clipped: false,
        skipped: false,
        loss,
        threshold: normAfter,
        nonFinite: [],
        transforms: [],
        tensorNorms,
      });
  };
  return { events$, emit };
}

const anyNumber = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0));

describe('NaN, +Infinity and -Infinity in the log', () => {
  test('every number read back is the number recorded, non-finite ones included (property)', async () => {
    const dir = tmp();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(anyNumber, anyNumber, anyNumber, anyNumber, anyNumber), { minLength: 1, maxLength: 30 }),
        async (rows) => {
          const path = join(dir, `r${n++}.jsonl`);
          const { events$, emit } = source();
          const recorder = recordJsonl(events$, path, { run: 'p' });
          rows.forEach(([before, after, loss, a, b], step) => emit(step, before, after, loss, { a, b }));
          rows.forEach(([, , , , b], step) => recorder.log({ step, loss: b })); // notes carry losses too
          await recorder.close();
          const records = await readJsonl(path);
          // -0 is written as 0 by JSON itself; everything else comes back exactly, NaN and ±Infinity included.
          const same = (v: number) => (Object.is(v, -0) ? 0 : v);
          expect(records.map((r) => [r.normBefore, r.normAfter, r.threshold, r.loss, r.tensorNorms])).toEqual(
            rows.map(([before, after, , a, b]) => [same(before), same(after), same(after), same(b), { a: same(a), b: same(b) }]),
          );
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  test('the log spells them out as strings that jq reads back as numbers', async () => {
    const path = join(tmp(), 'inf.jsonl');
    const { events$, emit } = source();
    const recorder = recordJsonl(events$, path);
    emit(0, Infinity, Number.NaN, -Infinity, { w: Number.NaN });
    await recorder.close();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      normBefore: 'Infinity',
      normAfter: 'NaN',
      loss: '-Infinity',
      tensorNorms: { w: 'NaN' },
    });
    const jq = execFileSync(
      'jq',
      [
        '-c',
        '[.normBefore, .normAfter, .loss] | map(tonumber) | [(.[0] | isinfinite), (.[1] | isnan), (.[2] < 0 and (.[2] | isinfinite))]',
        path,
      ],
      { encoding: 'utf8' },
    );
    expect(jq.trim()).toBe('[true,true,true]');
  });

  test('older logs with null still read, as non-finite of unknown kind', async () => {
    const path = join(tmp(), 'old.jsonl');
    writeFileSync(
      path,
      '{"run":"old","step":0,"normBefore":2,"normAfter":1,"clipped":true,"skipped":false,"loss":1}\n' +
        '{"run":"old","step":1,"normBefore":null,"normAfter":null,"clipped":false,"skipped":true,"loss":null,"tensorNorms":{"w":null}}\n',
    );
    const records = await readJsonl(path);
    expect(records[1]).toMatchObject({ normBefore: null, loss: null, tensorNorms: { w: null } });
    const { runs } = await writeReport([path], join(tmp(), 'old.html'));
    expect(runs[0]).toMatchObject({
      firstNonFinite: { step: 1, field: 'normBefore', value: null },
      nonFiniteNorms: { unknown: 1, nan: 0 },
      finalLoss: null,
    });
  });

  test('a string other than the three is refused, naming the file and the line', async () => {
    const path = join(tmp(), 'bad.jsonl');
    writeFileSync(path, '{"run":"r","step":0,"normBefore":"inf","normAfter":1,"clipped":false,"skipped":false}\n');
    await expect(readJsonl(path)).rejects.toThrow(
      `readJsonl: ${path} line 1: a step line needs "normBefore" as a number, "NaN", "Infinity", "-Infinity" or null, got "inf"`,
    );
    writeFileSync(path, '{"run":"r","step":0,"normBefore":1,"normAfter":1,"clipped":false,"skipped":false,"tensorNorms":{"w":"big"}}\n');
    await expect(readJsonl(path)).rejects.toThrow(
      `readJsonl: ${path} line 1: "tensorNorms.w" must be a number, "NaN", "Infinity", "-Infinity" or null, got "big"`,
    );
  });
});

describe('appending after a crash that tore the last line', () => {
  test('the torn text is set aside on a line of its own and every line reads', async () => {
    const path = join(tmp(), 'resumed.jsonl');
    await simulate(path, { steps: 10 });
    const whole = readFileSync(path, 'utf8');
    const torn = '{"run":"resumed","step":10,"normBefo';
    appendFileSync(path, torn); // the process died mid-line
    await simulate(path, { steps: 3 }, { append: true }); // resumed (its steps start at 0 again)
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(whole)).toBe(true); // the earlier lines are untouched
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(14);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // valid JSON Lines, for jq and pandas too
    expect(JSON.parse(lines[10]!)).toEqual({ torn });
    const told: [string, number, string][] = [];
    const records = await readJsonl(path, { onTruncated: (file, t) => told.push([file, t.line, t.text]) });
    expect(told).toEqual([[path, 11, torn]]);
    expect(records.map((r) => r.step)).toEqual([...Array(10).keys()]); // steps 0–2 were logged again: the later lines win
  });

  test('a last line that only lacks its newline gets one and stays', async () => {
    const path = join(tmp(), 'nonl.jsonl');
    await simulate(path, { steps: 4 });
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, -1));
    const pipe = new GradientPipeline([]);
    const recorder = recordJsonl(pipe.events$, path, { append: true });
    pipe.step({ w: new Float32Array([3, 4]) });
    await recorder.close();
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([0, 1, 2, 3, 0]);
  });

  test('appending to an empty or a well-ended file changes nothing before the new lines', async () => {
    const path = join(tmp(), 'fine.jsonl');
    writeFileSync(path, '');
    await simulate(path, { steps: 2 }, { append: true });
    const before = readFileSync(path, 'utf8');
    await simulate(path, { steps: 2 }, { append: true });
    expect(readFileSync(path, 'utf8').startsWith(before)).toBe(true);
    expect((await readJsonl(path)).length).toBe(2);
  });
});
