import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { JsonlParser, MonitorError, readJsonl, type StepRecord } from '@gradpipe/monitor';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();
const step = (n: number, extra: object = {}) =>
  JSON.stringify({ run: 'r', step: n, normBefore: n + 1, normAfter: 1, clipped: n > 0, skipped: false, threshold: 1, ...extra });

describe('readJsonl', () => {
  test('reads step lines in file order', async () => {
    const path = join(tmp(), 'ok.jsonl');
    writeFileSync(path, `${step(0)}\n${step(1, { loss: 0.5 })}\n\n${step(2, { normBefore: null })}\n`);
    const records = await readJsonl(path);
    expect(records).toEqual([
      { run: 'r', step: 0, normBefore: 1, normAfter: 1, clipped: false, skipped: false, threshold: 1 },
      { run: 'r', step: 1, normBefore: 2, normAfter: 1, clipped: true, skipped: false, threshold: 1, loss: 0.5 },
      { run: 'r', step: 2, normBefore: null, normAfter: 1, clipped: true, skipped: false, threshold: 1 },
    ]);
  });

  test('leaves out a truncated last line and says so', async () => {
    const path = join(tmp(), 'cut.jsonl');
    const cut = step(2).slice(0, 37);
    writeFileSync(path, `${step(0)}\n${step(1)}\n${cut}`);
    const told: [string, number, string][] = [];
    const records = await readJsonl(path, { onTruncated: (file, t) => told.push([file, t.line, t.text]) });
    expect(records.map((r) => r.step)).toEqual([0, 1]);
    expect(told).toEqual([[path, 3, cut]]);
  });

  test('keeps a last line that only lacks its newline', async () => {
    const path = join(tmp(), 'nonl.jsonl');
    writeFileSync(path, `${step(0)}\n${step(1)}`);
    expect((await readJsonl(path)).map((r) => r.step)).toEqual([0, 1]);
  });

  test('a malformed line before the last is an error naming the file and the line', async () => {
    const path = join(tmp(), 'bad.jsonl');
    writeFileSync(path, `${step(0)}\n${step(1)}\n{"run":"r","step":2,norm\n${step(3)}\n`);
    const error = await readJsonl(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MonitorError);
    expect(error).toMatchObject({ fn: 'readJsonl', file: path, line: 3 });
    expect((error as Error).message).toMatch(new RegExp(`^readJsonl: ${path} line 3: malformed JSON`));
  });

  test.each([
    ['[1,2]', 'expected a JSON object, got Array(2)'],
    ['{"run":"r","normBefore":1}', '"step" must be an integer >= 0, got undefined'],
    ['{"run":"r","step":1.5,"normBefore":1}', '"step" must be an integer >= 0, got 1.5'],
    [
      '{"run":"r","step":1,"normBefore":"big","normAfter":1,"clipped":true,"skipped":false}',
      'a step line needs "normBefore" as a number, "NaN", "Infinity", "-Infinity" or null, got "big"',
    ],
    ['{"run":"r","step":1,"normBefore":1,"normAfter":1,"clipped":1,"skipped":false}', 'a step line needs "clipped" as a boolean, got 1'],
    ['{"run":7,"step":1,"note":true}', '"run" must be a string, got 7'],
    ['{"run":"r","step":1,"note":true,"loss":"high"}', '"loss" must be a number, "NaN", "Infinity", "-Infinity" or null, got "high"'],
  ])('rejects %s', async (line, message) => {
    const path = join(tmp(), 'wrong.jsonl');
    writeFileSync(path, `${step(0)}\n${line}\n${step(2)}\n`);
    await expect(readJsonl(path)).rejects.toThrow(`readJsonl: ${path} line 2: ${message}`);
  });

  test('a missing file is an error naming it', async () => {
    const path = join(tmp(), 'nowhere.jsonl');
    await expect(readJsonl(path)).rejects.toThrow(`readJsonl: ${path}: no such file`);
  });

  test('lines without a run get the file name', async () => {
    const path = join(tmp(), 'anon.jsonl');
    writeFileSync(path, '{"step":0,"normBefore":1,"normAfter":1,"clipped":false,"skipped":false}\n');
    expect((await readJsonl(path))[0]?.run).toBe('anon');
  });
});

describe('JsonlParser', () => {
  test('gives the same records however the text is split into chunks, multi-byte characters included', () => {
    const text = `${step(0, { tag: 'é✓😀' })}\n${step(1)}\n${step(2, { tag: 'naïve' })}\n`;
    const bytes = Buffer.from(text);
    const whole: StepRecord[] = [];
    new JsonlParser('f', 'test', 'f').push(text, (r) => whole.push(r));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), (cuts) => {
        const parser = new JsonlParser('f', 'test', 'f');
        const decoder = new StringDecoder('utf8');
        const bounds = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const records: StepRecord[] = [];
        bounds.slice(1).forEach((end, i) => parser.push(decoder.write(bytes.subarray(bounds[i], end)), (r) => records.push(r)));
        expect(records).toEqual(whole);
        expect(parser.pending).toBe(false);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  test('holds a partial line until its newline arrives', () => {
    const parser = new JsonlParser('f', 'test', 'f');
    const line = step(0);
    const records: StepRecord[] = [];
    parser.push(line.slice(0, 20), (r) => records.push(r));
    expect(records).toEqual([]);
    expect(parser.pending).toBe(true);
    parser.push(`${line.slice(20)}\n`, (r) => records.push(r));
    expect(records.map((r) => r.step)).toEqual([0]);
    expect(parser.lines).toBe(1);
  });
});
