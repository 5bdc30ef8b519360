import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildChartData } from './buildChartData.js';
import { groupRuns } from './groupRuns.js';
import { MonitorError, describeValue } from './MonitorError.js';
import { readJsonl } from './readJsonl.js';
import { renderPage } from './renderPage.js';
import type { RunSummary } from './summarizeRun.js';

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** The page title. Default 'gradpipe report'. */
  title?: string;
  /** Longer runs are drawn downsampled to this many buckets (summaries always use every step). Default 4000. */
  maxBuckets?: number;
  /** Told about each file whose truncated last line was left out. */
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
  /** Every run's summary, as in the page's table. */
  runs: RunSummary[];
}

/**
 * Writes one self-contained HTML report for the given JSONL logs: gradient norms before and after clipping
 * (log scale) with the threshold and an event strip marking clipped, skipped and non-finite steps, the loss, every run
 * overlaid, and a summary table per run. It opens offline from disk.
 *
 * @example
 * ```ts
 * import { writeReport } from '@gradpipe/monitor';
 * const { runs } = await writeReport(['runs/none.jsonl', 'runs/clip.jsonl'], 'runs/report.html', { title: 'seed regression' });
 * for (const r of runs) console.log(r.run, r.steps, r.clippedFraction);
 * ```
 */
export async function writeReport(paths: readonly string[], out: string, options: WriteReportOptions = {}): Promise<ReportResult> {
  const fn = 'writeReport';
  if (!Array.isArray(paths) || paths.length === 0) throw new MonitorError(fn, `paths must be a non-empty array of .jsonl files, got ${describeValue(paths)}`);
  if (typeof out !== 'string' || out === '') throw new MonitorError(fn, `out must be a non-empty string, got ${describeValue(out)}`);
  const maxBuckets = options.maxBuckets ?? 4000;
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1) throw new MonitorError(fn, `maxBuckets must be an integer >= 1, got ${describeValue(maxBuckets)}`);
  const files = [];
  for (const path of paths) {
    const records = await readJsonl(path, { onTruncated: (file, t) => options.onTruncated?.(file, t.line) });
    files.push({ path, records });
  }
  const data = buildChartData(groupRuns(files), { title: options.title ?? 'gradpipe report', maxBuckets });
  const html = renderPage(data);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return { path: out, bytes: Buffer.byteLength(html), bucketSize: data.bucketSize, runs: data.runs.map((r) => r.summary) };
}
