import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatNumber } from './format/formatNumber.js';
import { MonitorError } from './MonitorError.js';
import { describeCounts, totalNonFinite } from './NonFiniteCounts.js';
import { nonFiniteKind } from './nonFinite.js';
import { type LiveServer, serve } from './serve.js';
import type { RunSummary } from './summarizeRun.js';
import { writeReport } from './writeReport.js';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Receives normal output (help, version, what was written), newlines included. Default: `process.stdout`. */
  out: (text: string) => void;
  /** Receives errors and warnings, newlines included. Default: `process.stderr`. */
  err: (text: string) => void;
  /** Told about a started `serve`, so a caller (a test) can stop it. */
  onServe?: (server: LiveServer) => void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function positiveInt(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}.`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a finite number > 0.`);
    return n;
  };
}

/** A directory stands for the .jsonl files in it. */
function expandLogs(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return [path]; // writeReport reports the missing file
    }
    if (!isDir) return [path];
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      throw new MonitorError('report', `cannot list the directory: ${(error as Error).message}`, { file: path });
    }
    const logs = names.filter((name) => name.endsWith('.jsonl')).sort();
    if (logs.length === 0) throw new MonitorError('report', 'no .jsonl files in this directory', { file: path });
    return logs.map((name) => join(path, name));
  });
}

/** The package version, from package.json one folder up (from src/ in tests, from dist/ once built). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function kB(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

/**
 * Runs the `gradpipe` command line: `gradpipe report <logs…> -o report.html` and `gradpipe serve [dirs…]`.
 * Resolves to the exit code; a running `serve` keeps the process alive after it resolves.
 *
 * @example
 * ```ts
 * import { runCli } from '@gradpipe/monitor';
 * process.exitCode = await runCli(['report', 'runs/clip.jsonl', '-o', 'runs/report.html']);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = new Command('gradpipe')
    .description('Gradient-clipping logs: an offline HTML report, or a live page while training runs.')
    .version(version())
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run gradpipe --help for usage)');

  program
    .command('report')
    .description('write one self-contained HTML report (opens offline) for JSONL logs')
    .argument('<logs...>', '.jsonl logs written by recordJsonl (a directory stands for its .jsonl files)')
    .option('-o, --out <file>', 'the HTML file to write', 'report.html')
    .option('-t, --title <title>', 'page title', 'gradpipe report')
    .option('--max-buckets <n>', 'draw longer runs downsampled to this many buckets', positiveInt('--max-buckets', 1), 4000)
    .option('--spike-window <n>', 'spikes: trailing window of the robust z-score, in steps', positiveInt('--spike-window', 3), 100)
    .option('--spike-z <z>', 'spikes: robust z-score above which a loss or norm is marked', positiveNumber('--spike-z'), 6)
    .action(async (logs: string[], opts: { out: string; title: string; maxBuckets: number; spikeWindow: number; spikeZ: number }) => {
      const started = performance.now();
      const result = await writeReport(expandLogs(logs), opts.out, {
        title: opts.title,
        maxBuckets: opts.maxBuckets,
        spikeWindow: opts.spikeWindow,
        spikeZ: opts.spikeZ,
        onTruncated: (file, line) => io.err(`warning: ${file} line ${line} is incomplete (the writer stopped mid-line); left out\n`),
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      io.out(
        `wrote ${result.path} (${kB(result.bytes)}) in ${seconds} s${result.bucketSize > 1 ? `, charts downsampled to buckets of ${result.bucketSize} steps` : ''}\n`,
      );
      for (const r of result.runs) io.out(describeRun(r));
    });

  program
    .command('serve')
    .description('serve the report page and update it live while training appends to the logs')
    .argument('[targets...]', 'directories of .jsonl logs, or .jsonl files', ['runs/'])
    .option('-p, --port <port>', 'port to listen on (0: any free port)', positiveInt('--port', 0), 8080)
    .option('--host <host>', 'interface to listen on (use 0.0.0.0 to allow other machines)', '127.0.0.1')
    .option('-t, --title <title>', 'page title', 'gradpipe live')
    .option('--spike-window <n>', 'spikes: trailing window of the robust z-score, in steps', positiveInt('--spike-window', 3), 100)
    .option('--spike-z <z>', 'spikes: robust z-score above which a loss or norm is marked', positiveNumber('--spike-z'), 6)
    .action(async (targets: string[], opts: { port: number; host: string; title: string; spikeWindow: number; spikeZ: number }) => {
      for (const target of targets) {
        try {
          statSync(target);
        } catch {
          throw new MonitorError('serve', 'no such file or directory', { file: target });
        }
      }
      const server = await serve(targets, {
        port: opts.port,
        host: opts.host,
        title: opts.title,
        spikeWindow: opts.spikeWindow,
        spikeZ: opts.spikeZ,
      });
      io.out(`serving ${targets.join(', ')} at ${server.url} (Ctrl-C to stop)\n`);
      io.onServe?.(server);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof MonitorError) {
      io.err(`gradpipe: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** The lines `gradpipe report` prints for a run: its figures, then each flagged layer. */
function describeRun(r: RunSummary): string {
  const parts = [
    `${r.steps} steps`,
    `${(100 * r.clippedFraction).toFixed(1)}% clipped (${r.clipped})`,
    `${r.skipped} skipped`,
    `max norm ${r.maxNorm === null ? 'n/a' : formatNumber(r.maxNorm)}`,
    `spikes: ${r.lossSpikes} loss, ${r.normSpikes} norm`,
  ];
  const f = r.firstNonFinite;
  if (f !== undefined) {
    const counts = [
      totalNonFinite(r.nonFiniteNorms) > 0 ? `norms ${describeCounts(r.nonFiniteNorms)}` : '',
      totalNonFinite(r.nonFiniteLosses) > 0 ? `losses ${describeCounts(r.nonFiniteLosses)}` : '',
    ].filter((c) => c !== '');
    parts.push(`non-finite from step ${f.step} (${f.field} ${nonFiniteKind(f.value)})${counts.length > 0 ? `: ${counts.join('; ')}` : ''}`);
  }
  let text = `  ${r.run}: ${parts.join(', ')}\n`;
  const flagged = r.layers.filter((l) => l.flag !== 'ok');
  if (r.layers.length > 0)
    text += `    layers: ${r.layers.length}, ${flagged.length === 0 ? 'none flagged' : `${flagged.length} flagged`}\n`;
  for (const l of flagged) text += `    ${l.flag} ${l.name}: ${l.reason}\n`;
  return text;
}
