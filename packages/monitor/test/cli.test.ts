import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '@gradpipe/monitor';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildForChild } from './buildForChild.js';
import { simulate } from './simulate.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('gradpipe CLI', () => {
  test('--help lists the commands and exits 0', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    expect(out).toContain('Usage: gradpipe');
    expect(out).toMatch(/report \[options\] <logs\.\.\.>/);
    expect(out).toMatch(/serve \[options\] \[targets\.\.\.\]/);
    const report = await cli('report', '--help');
    expect(report.code).toBe(0);
    expect(report.out).toContain('-o, --out <file>');
    const version = await cli('--version');
    expect(version).toMatchObject({
      code: 0,
      out: `${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`,
    });
  });

  test('report writes the HTML and prints each run', async () => {
    const dir = tmp();
    await simulate(join(dir, 'none.jsonl'), { steps: 40 });
    await simulate(join(dir, 'clip.jsonl'), { steps: 40, maxNorm: 1 });
    const out = join(dir, 'out', 'report.html');
    const result = await cli('report', join(dir, 'none.jsonl'), join(dir, 'clip.jsonl'), '-o', out, '--title', 'cli test');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^wrote .*report\.html \(\d+\.\d kB\)/);
    expect(result.out).toContain('none: 40 steps, 0.0% clipped (0), 0 skipped');
    expect(readFileSync(out, 'utf8')).toContain('<title>cli test</title>');
  });

  test('a directory stands for its .jsonl files', async () => {
    const dir = tmp();
    await simulate(join(dir, 'a.jsonl'), { steps: 5 });
    await simulate(join(dir, 'b.jsonl'), { steps: 5 });
    const result = await cli('report', dir, '-o', join(dir, 'r.html'));
    expect(result.code).toBe(0);
    expect(result.out).toContain('  a: 5 steps');
    expect(result.out).toContain('  b: 5 steps');
  });

  test('a missing file: a clear message and exit 1', async () => {
    const dir = tmp();
    const missing = join(dir, 'missing.jsonl');
    const result = await cli('report', missing, '-o', join(dir, 'r.html'));
    expect(result.code).toBe(1);
    expect(result.err).toBe(`gradpipe: writeReport: ${missing}: no such file\n`);
    expect(existsSync(join(dir, 'r.html'))).toBe(false);
  });

  test('a malformed line: the file and line number, exit 1', async () => {
    const dir = tmp();
    const path = join(dir, 'bad.jsonl');
    await simulate(path, { steps: 5 });
    writeFileSync(path, readFileSync(path, 'utf8').replace('"step":2,', '"step":2,,'));
    const result = await cli('report', path, '-o', join(dir, 'r.html'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^gradpipe: writeReport: ${path} line 3: malformed JSON`));
  });

  test('a truncated last line is a warning, not an error', async () => {
    const dir = tmp();
    const path = join(dir, 'cut.jsonl');
    await simulate(path, { steps: 5 });
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, -30));
    const result = await cli('report', path, '-o', join(dir, 'r.html'));
    expect(result.code).toBe(0);
    expect(result.err).toBe(`warning: ${path} line 5 is incomplete (the writer stopped mid-line); left out\n`);
    expect(result.out).toContain('cut: 4 steps');
  });

  test('bad options and commands exit non-zero with commander messages', async () => {
    const bad = await cli('report', 'x.jsonl', '--max-buckets', 'lots');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("option '--max-buckets <n>' argument 'lots' is invalid. --max-buckets must be an integer >= 1.");
    const none = await cli('report');
    expect(none.code).toBe(1);
    expect(none.err).toContain("error: missing required argument 'logs'");
    const unknown = await cli('plot');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("error: unknown command 'plot'");
    const dir = tmp();
    const serveMissing = await cli('serve', join(dir, 'nope'));
    expect(serveMissing.code).toBe(1);
    expect(serveMissing.err).toBe(`gradpipe: serve: ${join(dir, 'nope')}: no such file or directory\n`);
  });
});

describe('the gradpipe bin', () => {
  let build: ReturnType<typeof buildForChild>;
  beforeAll(() => {
    build = buildForChild();
  });
  afterAll(() => build.remove());

  test('runs as a program: exit codes and stderr as a shell sees them', async () => {
    const bin = join(build.dir, 'src', 'bin.js');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: gradpipe');
    const dir = tmp();
    const missing = spawnSync(process.execPath, [bin, 'report', join(dir, 'gone.jsonl')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`gradpipe: writeReport: ${join(dir, 'gone.jsonl')}: no such file\n`);
    mkdirSync(join(dir, 'runs'));
    await simulate(join(dir, 'runs', 'x.jsonl'), { steps: 10 });
    const ok = spawnSync(process.execPath, [bin, 'report', join(dir, 'runs'), '-o', join(dir, 'r.html')], { encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('id="gradpipe-data"');
  });
});
