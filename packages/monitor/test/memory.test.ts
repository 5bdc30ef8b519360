import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { recordJsonl, type StepEventSource } from '@gradpipe/monitor';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildForChild } from './buildForChild.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();
let build: ReturnType<typeof buildForChild>;
beforeAll(() => {
  build = buildForChild();
});
afterAll(() => build.remove());

/**
 * Records `steps` steps through the real recorder (events from a stand-in source, no training): norms around 1
 * with a spike every 9973 steps, clipping at 1.2, one NaN, a decaying loss. Returns the figures the summary must
 * give, counted here over every step.
 */
async function record(path: string, steps: number) {
  const observers: Parameters<StepEventSource['subscribe']>[0][] = [];
  const recorder = recordJsonl({ subscribe: (o) => (observers.push(o), { unsubscribe() {} }) }, path, { run: 'clip', extra: { lr: 0.01 } });
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const nanStep = Math.floor(steps * 0.654321);
  let clipped = 0;
  let maxNorm = 0;
  for (let step = 0; step < steps; step++) {
    const spike = step % 9973 === 17 ? 50 + 100 * random() : 1;
    const norm = step === nanStep ? Number.NaN : (0.5 + random()) * spike * (1 + step / steps);
    const clip = norm > 1.2;
    if (clip) clipped++;
    if (norm > maxNorm) maxNorm = norm;
    const event = {
      step,
      normBefore: norm,
      normAfter: clip ? 1.2 : norm,
      clipped: clip,
      skipped: Number.isNaN(norm),
      threshold: 1.2,
      loss: 2 * Math.exp(-step / (steps / 5)) + 0.05 * random(),
      nonFinite: Number.isNaN(norm) ? ['w'] : [],
      transforms: [],
    };
    for (const o of observers) o.next(event);
  }
  await recorder.close();
  return { clipped, maxNorm, nanStep };
}

/** Runs `gradpipe report` in a child process; its peak resident memory comes from the child itself. */
function report(log: string, out: string) {
  const cli = pathToFileURL(join(build.dir, 'src', 'cli.js')).href;
  const script = `
    import { runCli } from ${JSON.stringify(cli)};
    const started = performance.now();
    const code = await runCli(['report', ${JSON.stringify(log)}, '-o', ${JSON.stringify(out)}]);
    const { userCPUTime, systemCPUTime, maxRSS } = process.resourceUsage();
    console.log(JSON.stringify({ code, seconds: (performance.now() - started) / 1000, cpuSeconds: (userCPUTime + systemCPUTime) / 1e6, maxRssMB: maxRSS / 1024 }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(child.stderr).toBe('');
  const lines = child.stdout.trim().split('\n');
  return {
    ...(JSON.parse(lines.pop()!) as { code: number; seconds: number; cpuSeconds: number; maxRssMB: number }),
    printed: lines.join('\n'),
  };
}

describe('gradpipe report in bounded memory', () => {
  test('a 3,000,000-step log: peak memory as for a tenth of it, under 300 MB and 30 s of CPU, the summary exact', async () => {
    const dir = tmp();
    const small = join(dir, 'small.jsonl');
    const big = join(dir, 'big.jsonl');
    await record(small, 300_000);
    const truth = await record(big, 3_000_000);
    const bytes = statSync(big).size;
    expect(bytes).toBeGreaterThan(400e6); // the size of log the issue measured (430 MB)

    const a = report(small, join(dir, 'small.html'));
    const b = report(big, join(dir, 'big.html'));
    console.log(
      `gradpipe report: 300,000 steps (${(statSync(small).size / 1e6).toFixed(0)} MB): ${a.seconds.toFixed(1)} s (${a.cpuSeconds.toFixed(1)} s of CPU), peak ${a.maxRssMB.toFixed(0)} MB; ` +
        `3,000,000 steps (${(bytes / 1e6).toFixed(0)} MB): ${b.seconds.toFixed(1)} s (${b.cpuSeconds.toFixed(1)} s of CPU), peak ${b.maxRssMB.toFixed(0)} MB`,
    );
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.maxRssMB).toBeLessThanOrEqual(300);
    // The time limit is on the CPU time the report used (user + system), which does not depend on what else the
    // machine's two cores are doing at the time; the wall-clock time is printed above.
    expect(b.cpuSeconds).toBeLessThanOrEqual(30);
    // Ten times the log, not ten times the memory: the peak stays within 25% (plus GC slack) of the small one's.
    expect(b.maxRssMB).toBeLessThan(1.25 * a.maxRssMB + 20);
    // The summary still counts every step exactly.
    const figure = (v: number) => String(Number(v.toPrecision(6)));
    expect(b.printed).toContain(
      `  clip: 3000000 steps, ${((100 * truth.clipped) / 3e6).toFixed(1)}% clipped (${truth.clipped}), 1 skipped, max norm ${figure(truth.maxNorm)}, `,
    );
    expect(b.printed).toContain(`non-finite from step ${truth.nanStep} (normBefore NaN): norms 1 NaN`);
  });
});
