import type { StepRecord } from './StepRecord.js';
import { summarizeRun, type RunSummary } from './summarizeRun.js';

/** The gradient-norm series of one run, as drawn: aligned arrays, one entry per displayed point. */
export interface NormSeries {
  /**
   * The x axis: the step index of each point. Downsampled, a bucket is two points, at its first and its last
   * step (one point when the bucket has a single step).
   */
  step: number[];
  /** Global norm before clipping, to 6 significant digits; null where non-finite (drawn as a gap). */
  before: (number | null)[];
  /** Global norm after the pipeline, to 6 significant digits; null where non-finite (drawn as a gap). */
  after: (number | null)[];
  /** The clipping threshold in force; null where no transform reports one or it was non-finite. */
  threshold: (number | null)[];
  /**
   * 1 where the step was clipped. Downsampled, a bucket with some clipped step marks one point: the one showing
   * its largest norm.
   */
  clipped: (0 | 1)[];
  /** 1 where a guard skipped the step; downsampled, marked like {@link NormSeries.clipped}. */
  skipped: (0 | 1)[];
  /** 1 where a norm was non-finite; downsampled, on the bucket's first point when some step of it was. */
  nonFinite: (0 | 1)[];
}

/** The loss series of one run: only the steps that have a loss. */
export interface LossSeries {
  /** The x axis: the step index of each point (downsampled: a bucket's first and last step with a loss). */
  step: number[];
  /** The loss; null where non-finite. */
  value: (number | null)[];
  /** 1 where the loss (in a bucket: some loss of it) was non-finite. */
  nonFinite: (0 | 1)[];
}

/** One run on the page. */
export interface RunChartData {
  /** The run name as shown, e.g. `'clip'`, or `'clip (a.jsonl)'` when two files both hold a run of that name. */
  run: string;
  /** The files the run's lines came from. */
  files: string[];
  /** The run's figures, from every step (never from the downsampled series). */
  summary: RunSummary;
  /** The gradient-norm chart's series. */
  norms: NormSeries;
  /** The loss chart's series: only steps that have a loss. */
  loss: LossSeries;
}

/** Everything the report page draws; embedded in it as JSON. */
export interface ChartData {
  /** The page title; default `'gradpipe report'`. */
  title: string;
  /** Steps per displayed bucket: 1 means every step is drawn. */
  bucketSize: number;
  /** The most steps in one run, i.e. what a full-resolution chart would draw. */
  maxSteps: number;
  /** One entry per run, in the order given. */
  runs: RunChartData[];
}

/** Options of {@link buildChartData}. */
export interface ChartDataOptions {
  /** The page title. */
  title?: string;
  /**
   * At most this many buckets per run and series; longer runs are downsampled. Each bucket is drawn as two
   * points, its minimum and its maximum in the order they occurred (at its first and last step), so spikes survive. Default 4000.
   */
  maxBuckets?: number;
}

/** A run's records and where they came from, as gathered by `writeReport` and `serve`. */
export interface RunRecords {
  /** The run name shown on the page. */
  run: string;
  /** The log files its records were read from. */
  files: string[];
  /** The run's records, as {@link readJsonl} returns them; need not be in step order. */
  records: readonly StepRecord[];
}

/**
 * Turns runs' records into the data the page draws: summaries from every step, series downsampled to at most
 * `maxBuckets` buckets.
 *
 * @example
 * ```ts
 * import { buildChartData, readJsonl } from '@gradpipe/monitor';
 * const records = await readJsonl('runs/clip.jsonl');
 * const data = buildChartData([{ run: 'clip', files: ['runs/clip.jsonl'], records }], { maxBuckets: 1000 });
 * data.bucketSize; // 1 for up to 1000 steps
 * ```
 */
export function buildChartData(runs: readonly RunRecords[], options: ChartDataOptions = {}): ChartData {
  const maxBuckets = options.maxBuckets ?? 4000;
  const sorted = runs.map((r) => {
    // Logs are almost always in step order already; sorting a million records is only paid when they are not.
    const inOrder = r.records.every((s, i) => i === 0 || (r.records[i - 1] as StepRecord).step <= s.step);
    const byStep = inOrder ? r.records : [...r.records].sort((a, b) => a.step - b.step);
    return { ...r, steps: byStep.filter((s) => s.normBefore !== undefined), losses: byStep.filter((s) => s.loss !== undefined) };
  });
  const maxSteps = Math.max(0, ...sorted.map((r) => r.steps.length));
  const maxLosses = Math.max(0, ...sorted.map((r) => r.losses.length));
  const bucketSize = Math.max(1, Math.ceil(maxSteps / maxBuckets));
  const lossBucketSize = Math.max(1, Math.ceil(maxLosses / maxBuckets));
  return {
    title: options.title ?? 'gradpipe report',
    bucketSize: Math.max(bucketSize, lossBucketSize),
    maxSteps,
    runs: sorted.map((r) => ({
      run: r.run,
      files: r.files,
      summary: summarizeRun(r.run, r.records),
      norms: normSeries(r.steps, bucketSize),
      loss: lossSeries(r.losses, lossBucketSize),
    })),
  };
}

/** Six significant digits are plenty on screen and keep the page small. */
function display(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Number(value.toPrecision(6)) : null;
}

/** The minimum and maximum finite value of `values` in [from, to) with where they are, or undefined if none. */
function extremes(values: readonly (number | null | undefined)[], from: number, to: number) {
  let min: { at: number; value: number } | undefined;
  let max: { at: number; value: number } | undefined;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (min === undefined || v < min.value) min = { at: i, value: v };
    if (max === undefined || v > max.value) max = { at: i, value: v };
  }
  return min === undefined || max === undefined ? undefined : { min, max };
}

/** Two display values for a bucket: its min and max, in the order they occurred. */
function pair(values: readonly (number | null | undefined)[], from: number, to: number): [number | null, number | null, number] {
  const e = extremes(values, from, to);
  if (e === undefined) return [null, null, 0];
  return e.min.at <= e.max.at ? [display(e.min.value), display(e.max.value), 1] : [display(e.max.value), display(e.min.value), 0];
}

function normSeries(records: readonly StepRecord[], bucketSize: number): NormSeries {
  const out: NormSeries = { step: [], before: [], after: [], threshold: [], clipped: [], skipped: [], nonFinite: [] };
  if (bucketSize === 1) {
    for (const r of records) {
      out.step.push(r.step);
      out.before.push(display(r.normBefore));
      out.after.push(display(r.normAfter));
      out.threshold.push(display(r.threshold));
      out.clipped.push(r.clipped === true ? 1 : 0);
      out.skipped.push(r.skipped === true ? 1 : 0);
      out.nonFinite.push(r.normBefore === null || r.normAfter === null ? 1 : 0);
    }
    return out;
  }
  const before = records.map((r) => r.normBefore);
  const after = records.map((r) => r.normAfter);
  const threshold = records.map((r) => r.threshold);
  for (let from = 0; from < records.length; from += bucketSize) {
    const to = Math.min(records.length, from + bucketSize);
    const first = records[from] as StepRecord;
    const last = records[to - 1] as StepRecord;
    const [b0, b1, maxAt] = pair(before, from, to);
    const [a0, a1] = pair(after, from, to);
    const [t0, t1] = pair(threshold, from, to);
    let clipped: 0 | 1 = 0;
    let skipped: 0 | 1 = 0;
    let nonFinite: 0 | 1 = 0;
    for (let i = from; i < to; i++) {
      const r = records[i] as StepRecord;
      if (r.clipped === true) clipped = 1;
      if (r.skipped === true) skipped = 1;
      if (r.normBefore === null || r.normAfter === null) nonFinite = 1;
    }
    // Markers go on the point that shows the bucket's largest norm, once per bucket. A bucket of one step
    // (the last one may be) is one point.
    const points: [number, number | null, number | null, number | null][] =
      to - from === 1 ? [[first.step, b0, a0, t0]] : [[first.step, b0, a0, t0], [last.step, b1, a1, t1]];
    points.forEach(([step, b, a, t], p) => {
      out.step.push(step);
      out.before.push(b);
      out.after.push(a);
      out.threshold.push(t);
      const marked = p === Math.min(maxAt, points.length - 1);
      out.clipped.push(marked ? clipped : 0);
      out.skipped.push(marked ? skipped : 0);
      out.nonFinite.push(p === 0 ? nonFinite : 0);
    });
  }
  return out;
}

function lossSeries(records: readonly StepRecord[], bucketSize: number): LossSeries {
  const out: LossSeries = { step: [], value: [], nonFinite: [] };
  if (bucketSize === 1) {
    for (const r of records) {
      out.step.push(r.step);
      out.value.push(display(r.loss));
      out.nonFinite.push(r.loss === null ? 1 : 0);
    }
    return out;
  }
  const loss = records.map((r) => r.loss);
  for (let from = 0; from < records.length; from += bucketSize) {
    const to = Math.min(records.length, from + bucketSize);
    const first = records[from] as StepRecord;
    const last = records[to - 1] as StepRecord;
    const [v0, v1] = pair(loss, from, to);
    let nonFinite: 0 | 1 = 0;
    for (let i = from; i < to; i++) if (loss[i] === null) nonFinite = 1;
    out.step.push(first.step);
    out.value.push(v0);
    out.nonFinite.push(nonFinite);
    if (to - from > 1) {
      out.step.push(last.step);
      out.value.push(v1);
      out.nonFinite.push(0);
    }
  }
  return out;
}
