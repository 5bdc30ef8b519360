import { type FSWatcher, watch } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chartDataFrom, chartOptions } from './buildChartData.js';
import { LogFollower } from './LogFollower.js';
import { describeValue, MonitorError } from './MonitorError.js';
import { stringifyKeepingNonFinite } from './nonFinite.js';
import { renderPageJson } from './renderPage.js';
import { refuseUnknownKeys } from './summarizeRun.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to listen on. Default '127.0.0.1' (this machine only). */
  host?: string;
  /** The page title. Default 'gradpipe live'. */
  title?: string;
  /** Longer runs are drawn downsampled to this many buckets. Default 4000. */
  maxBuckets?: number;
  /** Trailing window of the spike rule, in steps. Default 100. */
  spikeWindow?: number;
  /** Robust z-score above which a loss or gradient norm is marked as a spike. Default 6. */
  spikeZ?: number;
  /** Check the logs at least this often, besides file-system events. Default 500. */
  pollMs?: number;
}

/** A running live server. */
export interface LiveServer {
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** The port listened on. */
  readonly port: number;
  /** Reads the logs now and pushes any change to the open pages. */
  refresh(): void;
  /** Stops watching and serving. */
  close(): Promise<void>;
}

const KNOWN = ['port', 'host', 'title', 'maxBuckets', 'spikeWindow', 'spikeZ', 'pollMs'];

/**
 * Serves the report page for the logs in `targets` (directories and/or .jsonl files) and updates every open
 * page while training appends to them, over server-sent events. Files are watched with `fs.watch`, with
 * polling as a fallback where watching is unreliable (network drives, some containers). Each update reads only
 * the bytes appended since the last one and adds them to running figures, so memory and the work per update do
 * not grow with the logs.
 *
 * @example
 * ```ts
 * import { serve } from '@gradpipe/monitor';
 * const server = await serve(['runs/'], { port: 8080 });
 * console.log(`open ${server.url}`);
 * // … later
 * await server.close();
 * ```
 */
export async function serve(targets: readonly string[], options: ServeOptions = {}): Promise<LiveServer> {
  const fn = 'serve';
  if (!Array.isArray(targets) || targets.length === 0)
    throw new MonitorError(fn, `targets must be a non-empty array of directories or .jsonl files, got ${describeValue(targets)}`);
  refuseUnknownKeys(fn, options, KNOWN);
  const { title, accumulator } = chartOptions(fn, { ...options, title: options.title ?? 'gradpipe live' }, KNOWN);
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new MonitorError(fn, `port must be an integer in [0, 65535], got ${describeValue(port)}`);
  const host = options.host ?? '127.0.0.1';
  const pollMs = options.pollMs ?? 500;
  if (typeof pollMs !== 'number' || !(pollMs >= 10))
    throw new MonitorError(fn, `pollMs must be a number >= 10, got ${describeValue(pollMs)}`);

  const follower = new LogFollower(targets, accumulator);
  const clients = new Set<ServerResponse>();
  let dataJson = '';
  let problems = '';

  const rebuild = () => {
    dataJson = stringifyKeepingNonFinite(chartDataFrom(follower.snapshot(), title, accumulator));
    problems = follower.problems().join('\n');
  };
  const send = (res: ServerResponse) => {
    res.write(`event: data\ndata: ${dataJson}\n\n`);
    if (problems !== '') res.write(`event: problem\ndata: ${problems.replace(/\n/g, '\ndata: ')}\n\n`);
  };
  const refresh = () => {
    if (!follower.poll()) return;
    rebuild();
    for (const res of clients) send(res);
  };
  follower.poll();
  rebuild();

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(renderPageJson(dataJson, title, true));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      clients.add(res);
      send(res);
      req.on('close', () => clients.delete(res));
    } else if (path === '/data.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(dataJson);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  // An update reads only what was appended, but a huge burst (a big log appearing at once) can take a while, so
  // automatic refreshes leave the server idle at least 3 times as long as the last one took.
  let restUntil = 0;
  const autoRefresh = () => {
    const started = performance.now();
    if (started < restUntil) return;
    refresh();
    restUntil = performance.now() + 3 * (performance.now() - started);
  };
  // fs.watch reports changes at once where it works; the poll catches the rest. Both only trigger a read.
  let pending: NodeJS.Timeout | undefined;
  const soon = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      autoRefresh();
    }, 50);
  };
  const watchers: FSWatcher[] = [];
  for (const target of targets) {
    try {
      watchers.push(watch(target, soon).on('error', () => undefined));
    } catch {
      // Not watchable (missing yet, or unsupported): polling covers it.
    }
  }
  const poller = setInterval(autoRefresh, pollMs);
  const keepAlive = setInterval(() => {
    for (const res of clients) res.write(': keep-alive\n\n');
  }, 15_000);

  const stop = async () => {
    clearInterval(poller);
    clearInterval(keepAlive);
    if (pending !== undefined) clearTimeout(pending);
    for (const w of watchers) w.close();
    for (const res of clients) res.end();
    clients.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new MonitorError(fn, `cannot listen on ${host}:${port}: ${error.message}`)));
      server.listen(port, host, resolve);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const actualPort = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${actualPort}/`,
    port: actualPort,
    refresh,
    close: stop,
  };
}
