import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clipByGlobalNorm, GradientPipeline, nanGuard } from '@gradpipe/core';
import { MonitorError, readJsonl, recordJsonl } from '@gradpipe/monitor';
import { describe, expect, test } from 'vitest';
import { simulate } from './simulate.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('recordJsonl', () => {
  test('writes one line per step with the pipeline figures, non-finite ones spelled out, and the extra fields', async () => {
    const path = join(tmp(), 'runs', 'clip.jsonl');
    const stats = await simulate(path, { steps: 50, maxNorm: 1, nanSteps: [7] }, { run: 'clip', extra: { lr: 0.07, seed: 1 } });
    const written = lines(path);
    expect(written).toHaveLength(50);
    written.forEach((line, i) => {
      const s = stats[i]!;
      expect(line).toEqual({
        run: 'clip',
        step: i,
        normBefore: Number.isFinite(s.normBefore) ? s.normBefore : String(s.normBefore),
        normAfter: Number.isFinite(s.normAfter) ? s.normAfter : String(s.normAfter),
        clipped: s.clipped,
        skipped: s.skipped,
        ...(s.threshold === undefined ? {} : { threshold: s.threshold }),
        loss: s.loss,
        ...(s.nonFinite.length > 0 ? { nonFinite: [...s.nonFinite] } : {}),
        lr: 0.07,
        seed: 1,
      });
    });
    expect(written[7]).toMatchObject({ normBefore: 'NaN', normAfter: 'NaN', skipped: true, nonFinite: ['w'] });
    expect(written.filter((l) => l['clipped'] === true).length).toBeGreaterThan(5);
  });

  test("a step's own learning rate (a schedule's value) is written as lr, over a constant extra.lr", async () => {
    const path = join(tmp(), 'lr.jsonl');
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const recorder = recordJsonl(pipe.events$, path, { extra: { lr: 0.5 } });
    pipe.step({ w: new Float32Array([3, 4]) }, { lr: 0.01 });
    pipe.step({ w: new Float32Array([3, 4]) });
    await recorder.close();
    expect(lines(path).map((l) => l['lr'])).toEqual([0.01, 0.5]);
  });

  test('the run defaults to the file name, and per-tensor norms are written when the events carry them', async () => {
    const path = join(tmp(), 'baseline.jsonl');
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })], { tensorNorms: true });
    const recorder = recordJsonl(pipe.events$, path);
    pipe.step({ a: new Float32Array([3, 4]), b: new Float32Array([0, Number.POSITIVE_INFINITY]) });
    await recorder.close();
    const [line] = lines(path);
    expect(line).toMatchObject({
      run: 'baseline',
      step: 0,
      normBefore: 'Infinity',
      tensorNorms: { a: 5, b: 'Infinity' },
      nonFinite: ['b'],
    });
    expect((await readJsonl(path))[0]).toMatchObject({ normBefore: Infinity, tensorNorms: { a: 5, b: Infinity } });
  });

  test('buffers lines until the buffer is full, flush(), close() or the end of events$', async () => {
    const path = join(tmp(), 'buffered.jsonl');
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const recorder = recordJsonl(pipe.events$, path, { bufferBytes: 1 << 20, flushIntervalMs: 0 });
    for (let i = 0; i < 20; i++) pipe.step({ w: new Float32Array([i, 1]) });
    expect(readFileSync(path, 'utf8')).toBe(''); // all 20 lines still in the buffer
    recorder.flush();
    expect(lines(path)).toHaveLength(20);
    for (let i = 0; i < 5; i++) pipe.step({ w: new Float32Array([i, 1]) });
    expect(lines(path)).toHaveLength(20);
    pipe.close(); // events$ completes: the recorder flushes and closes itself
    expect(recorder.closed).toBe(true);
    expect(lines(path).map((l) => l['step'])).toEqual([...Array(25).keys()]);
    await recorder.close(); // a second close does nothing
  });

  test('writes a full buffer as soon as it is full', () => {
    const path = join(tmp(), 'small-buffer.jsonl');
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const recorder = recordJsonl(pipe.events$, path, { bufferBytes: 500, flushIntervalMs: 0 });
    for (let i = 0; i < 30; i++) pipe.step({ w: new Float32Array([i, 1]) });
    const onDisk = readFileSync(path, 'utf8');
    // Each line is ~140 bytes: the file holds whole buffers, the rest (< 500 bytes) waits.
    expect(onDisk.endsWith('\n')).toBe(true);
    const waiting = 30 - lines(path).length;
    expect(waiting).toBeGreaterThan(0);
    expect(waiting).toBeLessThanOrEqual(4);
    pipe.close();
    expect(lines(path)).toHaveLength(30);
    expect(recorder.closed).toBe(true);
  });

  test('flushes every flushIntervalMs so a live page sees recent steps', async () => {
    const path = join(tmp(), 'timed.jsonl');
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const recorder = recordJsonl(pipe.events$, path, { flushIntervalMs: 20 });
    pipe.step({ w: new Float32Array([1, 1]) });
    await expect.poll(() => lines(path).length, { timeout: 2000, interval: 10 }).toBe(1);
    await recorder.close();
  });

  test('log() adds a loss known only later; readJsonl merges it into the step, before or after its line', async () => {
    const path = join(tmp(), 'notes.jsonl');
    const pipe = new GradientPipeline([nanGuard({ policy: 'skip' })]);
    const recorder = recordJsonl(pipe.events$, path, { run: 'r' });
    recorder.log({ step: 1, loss: 0.25 }); // before step 1 happens
    pipe.step({ w: new Float32Array([1]) });
    pipe.step({ w: new Float32Array([2]) });
    recorder.log({ step: 0, loss: 0.5, accuracy: 0.9 });
    recorder.log({ step: 5, loss: Number.NaN }); // a step with no step line
    await recorder.close();
    expect(lines(path)[0]).toEqual({ run: 'r', step: 1, note: true, loss: 0.25 });
    const records = await readJsonl(path);
    expect(records.map((r) => [r.step, r.normBefore, r.loss])).toEqual([
      [1, 2, 0.25],
      [0, 1, 0.5],
      [5, undefined, Number.NaN],
    ]);
    expect(lines(path).at(-1)).toEqual({ run: 'r', step: 5, note: true, loss: 'NaN' });
    expect(records[1]).toMatchObject({ accuracy: 0.9 });
    expect(() => recorder.log({ step: 2, loss: 1 })).toThrow('recordJsonl.log: the recorder of');
  });

  test('starts a new file unless append is set', async () => {
    const path = join(tmp(), 'again.jsonl');
    writeFileSync(path, '{"old":true}\n');
    await simulate(path, { steps: 3 });
    expect(lines(path)).toHaveLength(3);
    await simulate(path, { steps: 2 }, { append: true });
    expect(lines(path).map((l) => l['step'])).toEqual([0, 1, 2, 0, 1]);
  });

  test('rejects bad arguments with the function and the value, and creates no file', () => {
    const dir = tmp();
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const bad: [() => unknown, string][] = [
      [
        () => recordJsonl({} as never, join(dir, 'a.jsonl')),
        'recordJsonl: events$ must be an Observable of step events (pipe.events$), got object',
      ],
      [() => recordJsonl(pipe.events$, ''), 'recordJsonl: path must be a non-empty string, got ""'],
      [
        () => recordJsonl(pipe.events$, join(dir, 'a.jsonl'), { bufferBytes: 0 }),
        'recordJsonl: bufferBytes must be an integer >= 1, got 0',
      ],
      [
        () => recordJsonl(pipe.events$, join(dir, 'a.jsonl'), { extra: { step: 3 } }),
        'recordJsonl: extra.step clashes with a field of every step line',
      ],
      [() => recordJsonl(pipe.events$, join(dir, 'a.jsonl'), { runName: 'x' } as never), 'recordJsonl: unknown option "runName"'],
      [() => recordJsonl(pipe.events$, join(dir, 'a.jsonl'), { run: '' }), 'recordJsonl: run must be a non-empty string, got ""'],
    ];
    for (const [call, message] of bad) {
      expect(call).toThrow(MonitorError);
      expect(call).toThrow(message);
    }
    expect(() => readFileSync(join(dir, 'a.jsonl'))).toThrow(/ENOENT/);
    // A path under a regular file cannot be created: a MonitorError naming the file, not a bare fs error.
    writeFileSync(join(dir, 'file'), '');
    expect(() => recordJsonl(pipe.events$, join(dir, 'file', 'a.jsonl'))).toThrow(
      `recordJsonl: ${join(dir, 'file', 'a.jsonl')}: cannot open the log for writing: EEXIST`,
    );
  });

  test('log() checks its note', async () => {
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const recorder = recordJsonl(pipe.events$, join(tmp(), 'n.jsonl'));
    expect(() => recorder.log({ step: -1, loss: 1 })).toThrow('recordJsonl.log: note.step must be an integer >= 0, got -1');
    expect(() => recorder.log({ step: 1, loss: '1' as never })).toThrow('recordJsonl.log: note.loss must be a number, got "1"');
    expect(() => recorder.log({ step: 1, normBefore: 3 })).toThrow('recordJsonl.log: note.normBefore cannot be set by a note');
    await recorder.close();
  });
});
