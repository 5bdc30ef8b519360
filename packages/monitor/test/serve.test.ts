import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChartData, type LiveServer, serve, writeReport } from '@gradpipe/monitor';
import { afterEach, describe, expect, test } from 'vitest';
import { chartDataFrom, chartOptions } from '../src/buildChartData.js';
import { LogFollower } from '../src/LogFollower.js';
import { useTmpDir } from './tmpdir.js';

const tmp = useTmpDir();
const servers: LiveServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const line = (run: string, step: number) =>
  `${JSON.stringify({ run, step, normBefore: step + 1, normAfter: 1, clipped: step > 0, skipped: false, threshold: 1, loss: 1 / (step + 1) })}\n`;
const data = async (server: LiveServer) => (await (await fetch(new URL('data.json', server.url))).json()) as ChartData;
const steps = (d: ChartData) => Object.fromEntries(d.runs.map((r) => [r.run, r.summary.steps]));

describe('serve', () => {
  test('listens on 127.0.0.1 by default and serves the live page', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.jsonl'), line('a', 0));
    const server = await serve([dir], { port: 0 });
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<body data-live="true">');
    expect(html).toContain('"run":"a"');
    expect((await fetch(new URL('nothing', server.url))).status).toBe(404);
  });

  test('follows appended lines, waits for a partial last line, and picks up new files', async () => {
    const dir = tmp();
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, line('a', 0) + line('a', 1));
    const server = await serve([dir], { port: 0, pollMs: 60_000 }); // no timer: refresh() by hand
    servers.push(server);
    expect(steps(await data(server))).toEqual({ a: 2 });
    const next = line('a', 2);
    appendFileSync(path, next.slice(0, 25));
    server.refresh();
    expect(steps(await data(server))).toEqual({ a: 2 });
    appendFileSync(path, next.slice(25) + line('a', 3));
    writeFileSync(join(dir, 'b.jsonl'), line('b', 0));
    server.refresh();
    expect(steps(await data(server))).toEqual({ a: 4, b: 1 });
    writeFileSync(path, line('a', 0)); // a recorder starting the file anew
    server.refresh();
    expect(steps(await data(server))).toEqual({ a: 1, b: 1 });
  });

  test('each update reads only the bytes appended since the last one, and gives what the report gives', async () => {
    const dir = tmp();
    const path = join(dir, 'a.jsonl');
    const first = Array.from({ length: 300 }, (_, i) => line('a', i)).join('');
    writeFileSync(path, first);
    const { accumulator } = chartOptions('test', {});
    const follower = new LogFollower([dir], accumulator);
    follower.poll();
    expect(follower.bytesRead).toBe(Buffer.byteLength(first));
    const more = Array.from({ length: 5000 }, (_, i) => line('a', 300 + i)).join('');
    appendFileSync(path, more);
    expect(follower.poll()).toBe(true);
    expect(follower.bytesRead).toBe(Buffer.byteLength(first) + Buffer.byteLength(more));
    expect(follower.poll()).toBe(false); // nothing new: nothing read
    expect(follower.bytesRead).toBe(Buffer.byteLength(first) + Buffer.byteLength(more));
    // Its figures (steps still in the merge window included) are those of a report of the same file.
    const live = chartDataFrom(follower.snapshot(), 'x', accumulator);
    const { runs } = await writeReport([path], join(dir, 'r.html'));
    expect(live.runs[0]!.summary).toEqual(runs[0]);
    expect(live.runs[0]!.summary.steps).toBe(5300);
  });

  test('a line too far out of step order for the merge window: the file is read anew with a larger one, figures exact', async () => {
    const dir = tmp();
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, Array.from({ length: 10_000 }, (_, i) => line('a', i)).join(''));
    const { accumulator } = chartOptions('test', {});
    const follower = new LogFollower([dir], accumulator);
    follower.poll();
    const size = follower.bytesRead;
    appendFileSync(path, `${JSON.stringify({ run: 'a', step: 0, note: true, loss: 1e6 })}\n`); // a note for step 0, 10000 steps late
    follower.poll();
    expect(follower.bytesRead).toBeGreaterThan(2 * size); // read again from the start (twice: 8192 steps was not enough)
    const live = chartDataFrom(follower.snapshot(), 'x', accumulator).runs[0]!.summary;
    const { runs } = await writeReport([path], join(dir, 'r.html'));
    expect(live).toEqual(runs[0]);
    expect(live.steps).toBe(10_000);
  });

  test('pushes updates over server-sent events, found by fs.watch or the poll', async () => {
    const dir = tmp();
    const path = join(dir, 'live.jsonl');
    writeFileSync(path, line('live', 0));
    const server = await serve([dir], { port: 0, pollMs: 100 });
    servers.push(server);
    const response = await fetch(new URL('events', server.url));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const seen: number[] = [];
    let text = '';
    const readUntil = async (steps: number) => {
      while (!seen.includes(steps)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += value;
        for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
          const event = text.slice(0, end);
          text = text.slice(end + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (event.startsWith('event: data') && data) seen.push((JSON.parse(data.slice(6)) as ChartData).runs[0]!.summary.steps);
        }
      }
    };
    await readUntil(1);
    appendFileSync(path, line('live', 1) + line('live', 2));
    await readUntil(3);
    expect(seen).toEqual([1, 3]);
    await reader.cancel();
  });

  test('reports a malformed line on the page instead of failing', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.jsonl'), `${line('bad', 0)}not json\n${line('bad', 2)}`);
    const server = await serve([dir], { port: 0 });
    servers.push(server);
    const response = await fetch(new URL('events', server.url));
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: problem')) text += (await reader.read()).value ?? '';
    while (!/event: problem\ndata: [^\n]*\n\n/.test(text)) text += (await reader.read()).value ?? '';
    expect(text).toMatch(new RegExp(`event: problem\\ndata: serve: ${join(dir, 'bad.jsonl')} line 2: malformed JSON`));
    await reader.cancel();
    expect(steps(await data(server))).toEqual({ bad: 1 });
  });

  test('rejects bad options', async () => {
    await expect(serve([], { port: 0 })).rejects.toThrow('serve: targets must be a non-empty array');
    await expect(serve(['x'], { port: 70000 })).rejects.toThrow('serve: port must be an integer in [0, 65535], got 70000');
  });
});
