import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readJsonl } from '@gradpipe/monitor';
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
 * Runs a child Node process that records `steps` events (from a minimal event source, no rxjs needed) into
 * `path` and then ends the way `ending` says, without ever calling close().
 */
function child(path: string, steps: number, ending: string, options = '{}') {
  const recordJsonl = pathToFileURL(join(build.dir, 'src', 'recordJsonl.js')).href;
  const script = `
    import { recordJsonl } from ${JSON.stringify(recordJsonl)};
    const observers = [];
    const events$ = { subscribe(o) { observers.push(o); return { unsubscribe() {} }; } };
    recordJsonl(events$, ${JSON.stringify(path)}, ${options});
    for (let step = 0; step < ${steps}; step++) {
      const event = { step, normBefore: step === 3 ? NaN : step / 10, normAfter: step / 10, clipped: step % 2 === 0,
        skipped: step === 3, threshold: 1, nonFinite: [], transforms: [] };
      for (const o of observers) o.next(event);
    }
    ${ending}
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

describe('recordJsonl when the process ends without close()', () => {
  test('process.exit() flushes every line', async () => {
    const path = join(tmp(), 'exit.jsonl');
    const result = child(path, 100, 'process.exit(3);');
    expect(result.status).toBe(3);
    const records = await readJsonl(path);
    expect(records.map((r) => r.step)).toEqual([...Array(100).keys()]);
    expect(records[3]).toMatchObject({ normBefore: Number.NaN, skipped: true });
  });

  test('an uncaught exception flushes every line', async () => {
    const path = join(tmp(), 'crash.jsonl');
    const result = child(path, 100, 'throw new Error("training blew up");');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('training blew up');
    expect((await readJsonl(path)).length).toBe(100);
  });

  test('SIGTERM flushes every line and the process still dies of the signal', async () => {
    const path = join(tmp(), 'sigterm.jsonl');
    const result = child(path, 100, 'process.kill(process.pid, "SIGTERM"); setTimeout(() => {}, 10_000);');
    expect(result.signal).toBe('SIGTERM');
    expect((await readJsonl(path)).length).toBe(100);
  });

  test('the event loop running dry (no close) flushes every line', async () => {
    const path = join(tmp(), 'dry.jsonl');
    const result = child(path, 100, '');
    expect(result.status).toBe(0);
    expect((await readJsonl(path)).length).toBe(100);
  });

  test('SIGKILL loses at most the waiting buffer; the file holds whole lines the reader accepts', async () => {
    const path = join(tmp(), 'sigkill.jsonl');
    const result = child(path, 1000, 'process.kill(process.pid, "SIGKILL");', '{ bufferBytes: 4096, flushIntervalMs: 0 }');
    expect(result.signal).toBe('SIGKILL');
    const text = readFileSync(path, 'utf8');
    const records = await readJsonl(path);
    expect(records.map((r) => r.step)).toEqual([...Array(records.length).keys()]);
    // Lines are ~120 bytes, so a 4096-byte buffer holds at most ~40 of them.
    expect(records.length).toBeGreaterThanOrEqual(1000 - 45);
    expect(records.length).toBeLessThan(1000);
    expect(text.endsWith('\n')).toBe(true); // every write is whole lines
  });
});
