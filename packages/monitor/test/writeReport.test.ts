import { linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MonitorError, runCli, writeReport } from '@gradpipe/monitor';
import { describe, expect, test } from 'vitest';
import { simulate } from './simulate.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** The JSON embedded in a report page. */
const pageData = (html: string) =>
  JSON.parse(html.match(/<script type="application\/json" id="gradpipe-data">(.*?)<\/script>/s)![1]!.replace(/\\u003c/g, '<'));

describe('writeReport refuses outputs that would destroy data or cannot be written', () => {
  test('an output equal to an input, by name, by another spelling, or through a link: refused, the log untouched', async () => {
    const dir = tmp();
    const log = join(dir, 'a.jsonl');
    await simulate(log, { steps: 5 });
    const before = readFileSync(log, 'utf8');
    symlinkSync(log, join(dir, 'link.jsonl'));
    linkSync(log, join(dir, 'hard.jsonl'));
    for (const out of [log, join(dir, '.', 'a.jsonl'), join(dir, 'link.jsonl'), join(dir, 'hard.jsonl')]) {
      const error = await writeReport([log], out).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MonitorError);
      expect((error as Error).message).toBe(
        `writeReport: out ${JSON.stringify(out)} is one of the input logs (${JSON.stringify(log)}); writing the report there would destroy it`,
      );
      const result = await cli('report', log, '-o', out);
      expect(result).toEqual({ code: 1, out: '', err: `gradpipe: ${(error as Error).message}\n` });
    }
    expect(readFileSync(log, 'utf8')).toBe(before);
  });

  test('an output that is a directory, or lies under a regular file: a clear error and exit 1', async () => {
    const dir = tmp();
    const log = join(dir, 'a.jsonl');
    await simulate(log, { steps: 5 });
    const asDir = await cli('report', log, '-o', dir);
    expect(asDir).toEqual({
      code: 1,
      out: '',
      err: `gradpipe: writeReport: out ${JSON.stringify(dir)} is a directory; give a file name, e.g. ${JSON.stringify(join(dir, 'report.html'))}\n`,
    });
    const under = join(log, 'sub', 'report.html');
    const asChild = await cli('report', log, '-o', under);
    expect(asChild).toEqual({
      code: 1,
      out: '',
      err: `gradpipe: writeReport: out ${JSON.stringify(under)} lies under ${JSON.stringify(log)}, which is a file, not a directory\n`,
    });
    expect(statSync(log).isFile()).toBe(true);
  });

  test('an output that cannot be written: a MonitorError, no half-written file', async () => {
    const dir = tmp();
    const log = join(dir, 'a.jsonl');
    await simulate(log, { steps: 5 });
    const readOnly = join(dir, 'ro');
    mkdirSync(readOnly, { mode: 0o500 });
    const out = join(readOnly, 'r.html');
    // root may write anywhere; the test then only checks that the report was written whole.
    const error = await writeReport([log], out).catch((e: unknown) => e);
    if (error instanceof Error) {
      expect(error).toBeInstanceOf(MonitorError);
      expect(error.message).toMatch(/^writeReport: cannot write ".*r\.html": EACCES/);
    } else {
      expect(readFileSync(out, 'utf8')).toContain('</html>');
    }
  });

  test('unknown options and bad values are refused, naming the option and the value', async () => {
    const log = join(tmp(), 'a.jsonl');
    await simulate(log, { steps: 2 });
    await expect(writeReport([log], join(tmp(), 'r.html'), { maxBucket: 10 } as never)).rejects.toThrow(
      'writeReport: unknown option "maxBucket" (known: title, maxBuckets, spikeWindow, spikeZ, onTruncated)',
    );
    await expect(writeReport([log], join(tmp(), 'r.html'), { spikeZ: -1 })).rejects.toThrow(
      'writeReport: spikeZ must be a finite number > 0, got -1',
    );
    await expect(writeReport([log], join(tmp(), 'r.html'), { spikeWindow: 2 })).rejects.toThrow(
      'writeReport: spikeWindow must be an integer >= 3, got 2',
    );
    await expect(writeReport([log, 3 as never], join(tmp(), 'r.html'))).rejects.toThrow(
      'writeReport: paths[1] must be a non-empty string, got 3',
    );
  });
});

describe('runs from several files', () => {
  test('same-named runs from different folders get distinct labels, toggles and rows', async () => {
    const dir = tmp();
    for (const exp of ['exp1', 'exp2']) {
      mkdirSync(join(dir, exp));
      await simulate(join(dir, exp, 'train.jsonl'), { steps: exp === 'exp1' ? 10 : 20 });
    }
    const out = join(dir, 'r.html');
    const { runs } = await writeReport([join(dir, 'exp1', 'train.jsonl'), join(dir, 'exp2', 'train.jsonl')], out);
    expect(runs.map((r) => [r.run, r.steps])).toEqual([
      ['train (exp1/train.jsonl)', 10],
      ['train (exp2/train.jsonl)', 20],
    ]);
    expect(pageData(readFileSync(out, 'utf8')).runs.map((r: { run: string }) => r.run)).toEqual([
      'train (exp1/train.jsonl)',
      'train (exp2/train.jsonl)',
    ]);
  });

  test('a file given twice is read once', async () => {
    const dir = tmp();
    await simulate(join(dir, 'a.jsonl'), { steps: 3 });
    const { runs } = await writeReport([join(dir, 'a.jsonl'), join(dir, '.', 'a.jsonl')], join(dir, 'r.html'));
    expect(runs.map((r) => r.run)).toEqual(['a']);
  });
});

describe('per-layer health', () => {
  /** A run with three layers: one healthy, one whose gradient fades to 1e-10, one that grows 1e7-fold and ends in Infinity. */
  function layeredLog(path: string, steps = 400) {
    const lines: string[] = [];
    for (let step = 0; step < steps; step++) {
      const t = step / (steps - 1);
      const norms = {
        'dense/kernel': 0.5 + 0.1 * Math.sin(step),
        'lstm/kernel': 10 ** (-1 - 9 * t),
        'lstm/recurrent': step === steps - 1 ? 'Infinity' : 10 ** (7 * t),
      };
      lines.push(
        JSON.stringify({ run: 'deep', step, normBefore: 1, normAfter: 1, clipped: false, skipped: false, loss: 1, tensorNorms: norms }),
      );
    }
    writeFileSync(path, `${lines.join('\n')}\n`);
  }

  test('min, recent median, last and the flag of each layer, by the documented rule', async () => {
    const dir = tmp();
    layeredLog(join(dir, 'deep.jsonl'));
    const { runs } = await writeReport([join(dir, 'deep.jsonl')], join(dir, 'r.html'));
    const layers = runs[0]!.layers;
    expect(layers.map((l) => [l.name, l.flag])).toEqual([
      ['dense/kernel', 'ok'],
      ['lstm/kernel', 'vanishing'],
      ['lstm/recurrent', 'exploding'],
    ]);
    const fading = layers[1]!;
    expect(fading.min).toBeCloseTo(1e-10, 20);
    expect(fading.last).toBeCloseTo(1e-10, 20);
    // The recent median: steps 300…399, middle ones 349 and 350.
    const at = (step: number) => 10 ** (-1 - (9 * step) / 399);
    expect(fading.median).toBeCloseTo((at(349) + at(350)) / 2, 15);
    expect(fading.reason).toMatch(/^recent median .* < 1e-8$/);
    expect(layers[2]).toMatchObject({ last: Infinity, nonFinite: { infinity: 1 }, firstNonFiniteStep: 399 });
    expect(layers[0]).toMatchObject({ steps: 400, reason: '' });
  });

  test('a layer that grows more than 1e6-fold without going non-finite is exploding; 1e-6 of the others is vanishing', async () => {
    const dir = tmp();
    const lines: string[] = [];
    for (let step = 0; step < 300; step++) {
      const tensorNorms = { a: 1, b: step < 100 ? 1e-3 : 1e4, c: 1e-7, d: 2 };
      lines.push(JSON.stringify({ step, normBefore: 1, normAfter: 1, clipped: false, skipped: false, tensorNorms }));
    }
    writeFileSync(join(dir, 'g.jsonl'), `${lines.join('\n')}\n`);
    const { runs } = await writeReport([join(dir, 'g.jsonl')], join(dir, 'r.html'));
    // b: 1e4 / 1e-3 = 1e7 > 1e6. c: 1e-7 < 1e-6 × the median of (1, 1e4, 1e-7, 2) = 1.5.
    expect(runs[0]!.layers.map((l) => l.flag)).toEqual(['ok', 'exploding', 'vanishing', 'ok']);
    expect(runs[0]!.layers[2]!.reason).toBe('recent median 1e-7 < 1e-6 × the median over layers 1.5');
  });

  test('gradpipe report prints the flagged layers', async () => {
    const dir = tmp();
    layeredLog(join(dir, 'deep.jsonl'));
    const { code, out } = await cli('report', join(dir, 'deep.jsonl'), '-o', join(dir, 'r.html'));
    expect(code).toBe(0);
    expect(out).toContain('    layers: 3, 2 flagged\n');
    expect(out).toMatch(/\n {4}vanishing lstm\/kernel: recent median .* < 1e-8\n/);
    expect(out).toContain('\n    exploding lstm/recurrent: non-finite norm at 1 step, first at step 399\n');
    expect(out).not.toContain('dense/kernel');
  });
});
