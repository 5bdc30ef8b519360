import { chartDataFrom, chartOptions } from './buildChartData.js';
import { describeValue, MonitorError } from './MonitorError.js';
import { canonical, checkOutput, writeFileAtomically } from './outputPath.js';
import { renderPage } from './renderPage.js';
import { runLabels } from './runLabels.js';
import { streamLog } from './streamLog.js';
import type { RunSummary } from './summarizeRun.js';

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** The page title. Default 'gradpipe report'. */
  title?: string;
  /**
   * Longer runs are drawn downsampled to at most this many buckets (of a power-of-two number of steps); the
   * summaries always use every step. Default 4000.
   */
  maxBuckets?: number;
  /** Trailing window of the spike rule, in steps. Default 100. */
  spikeWindow?: number;
  /** Robust z-score above which a loss or gradient norm is marked as a spike. Default 6. */
  spikeZ?: number;
  /** Told about each line a crashed writer left unfinished (left out): the file and the 1-based line number. */
  onTruncated?: (file: string, line: number) => void;
}

/** What {@link writeReport} did. */
export interface ReportResult {
  /** The HTML file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** Steps per drawn bucket (1: not downsampled). */
  bucketSize: number;
  /** Every run's summary, as in the page's tables (with `layers`: the per-layer health, flags included). */
  runs: RunSummary[];
}

const KNOWN = ['title', 'maxBuckets', 'spikeWindow', 'spikeZ', 'onTruncated'];

/**
 * Writes one self-contained HTML report for the given JSONL logs: gradient norms before and after clipping
 * (log scale) with the threshold and an event strip marking clipped, skipped, non-finite and spike steps, the
 * loss, every run overlaid, a summary table per run, and, when the logs carry per-tensor norms, a per-layer
 * heatmap, per-layer lines and a layer-health table. It opens offline from disk.
 *
 * The logs are streamed: memory stays the same for a thousand steps or millions, and the summaries are still
 * counted over every step. Refused before anything is read: an `out` that is one of the logs, a directory, or
 * under a regular file. Runs of the same name from different files are told apart by their paths.
 *
 * @example
 * ```ts
 * import { writeReport } from '@gradpipe/monitor';
 * const { runs } = await writeReport(['runs/none.jsonl', 'runs/clip.jsonl'], 'runs/report.html', { title: 'seed regression' });
 * for (const r of runs) console.log(r.run, r.steps, r.clippedFraction, r.lossSpikes);
 * for (const layer of runs[0]!.layers) console.log(layer.name, layer.min, layer.median, layer.last, layer.flag);
 * ```
 */
export async function writeReport(paths: readonly string[], out: string, options: WriteReportOptions = {}): Promise<ReportResult> {
  const fn = 'writeReport';
  if (!Array.isArray(paths) || paths.length === 0)
    throw new MonitorError(fn, `paths must be a non-empty array of .jsonl files, got ${describeValue(paths)}`);
  paths.forEach((p, i) => {
    if (typeof p !== 'string' || p === '') throw new MonitorError(fn, `paths[${i}] must be a non-empty string, got ${describeValue(p)}`);
  });
  if (typeof out !== 'string' || out === '') throw new MonitorError(fn, `out must be a non-empty string, got ${describeValue(out)}`);
  const { title, accumulator } = chartOptions(fn, options, KNOWN);
  if (options.onTruncated !== undefined && typeof options.onTruncated !== 'function') {
    throw new MonitorError(fn, `onTruncated must be a function, got ${describeValue(options.onTruncated)}`);
  }
  checkOutput(fn, out, paths);
  // A file given twice (say as runs/ and runs/a.jsonl) is read once.
  const seen = new Set<string>();
  const files = paths.filter((p) => {
    const key = canonical(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const runs = [];
  for (const file of files) {
    for (const r of await streamLog(file, fn, accumulator, (t) => options.onTruncated?.(file, t.line))) runs.push({ file, ...r });
  }
  const labels = runLabels(runs);
  const data = chartDataFrom(
    runs.map((r, i) => ({ run: labels[i]!, files: [r.file], acc: r.acc })),
    title,
    accumulator,
  );
  const html = renderPage(data);
  writeFileAtomically(fn, out, html);
  return { path: out, bytes: Buffer.byteLength(html), bucketSize: data.bucketSize, runs: data.runs.map((r) => r.summary) };
}
