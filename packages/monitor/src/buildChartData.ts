import type { LayerSeries } from './LayerTracker.js';
import { describeValue, MonitorError } from './MonitorError.js';
import { type AccumulatorOptions, DEFAULT_ACCUMULATOR, RunAccumulator } from './RunAccumulator.js';
import type { StepRecord } from './StepRecord.js';
import { inStepOrder, type RunSummary, refuseUnknownKeys, spikeOptions } from './summarizeRun.js';

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
  /** 1 where the norm before clipping was a spike (the spike rule of docs/monitor.md); downsampled, like `clipped`. */
  spike: (0 | 1)[];
}

/** The loss series of one run: only the steps that have a loss. */
export interface LossSeries {
  /** The x axis: the step index of each point (downsampled: a bucket's first and last step with a loss). */
  step: number[];
  /** The loss; null where non-finite. */
  value: (number | null)[];
  /** 1 where the loss (in a bucket: some loss of it) was non-finite. */
  nonFinite: (0 | 1)[];
  /** 1 where the loss was a spike; downsampled, on the point showing the bucket's largest loss. */
  spike: (0 | 1)[];
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
  /** The per-layer heatmap's and lines' series; only when the run's steps carry per-tensor norms. */
  layers?: LayerSeries;
}

/** The settings of the spike rule (see docs/monitor.md). */
export interface SpikeRule {
  /** How many earlier finite values the median and MAD come from. */
  window: number;
  /** The robust z-score above which a value is a spike. */
  z: number;
}

/** Everything the report page draws; embedded in it as JSON. */
export interface ChartData {
  /** The page title; default `'gradpipe report'`. */
  title: string;
  /** Steps per displayed bucket (a power of two): 1 means every step is drawn. */
  bucketSize: number;
  /** The most steps in one run, i.e. what a full-resolution chart would draw. */
  maxSteps: number;
  /** One entry per run, in the order given. */
  runs: RunChartData[];
  /** The spike rule's settings, for the page's key. */
  spikes: SpikeRule;
}

/** Options of {@link buildChartData}. */
export interface ChartDataOptions {
  /** The page title. */
  title?: string;
  /**
   * At most this many buckets per run and series; longer runs are downsampled into buckets of a power-of-two
   * number of steps. Each bucket is drawn as two points, its minimum and its maximum in the order they occurred
   * (at its first and last step), so spikes survive. Default 4000. Per-layer series use at most min(maxBuckets, 1000).
   */
  maxBuckets?: number;
  /** Trailing window of the spike rule, in steps. Default 100. */
  spikeWindow?: number;
  /** Robust z-score above which a loss or norm is a spike. Default 6. */
  spikeZ?: number;
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

const KNOWN = ['title', 'maxBuckets', 'spikeWindow', 'spikeZ'];

/** Checks chart options as a public function got them; returns the accumulator settings and the title. */
export function chartOptions(fn: string, options: ChartDataOptions, known = KNOWN): { title: string; accumulator: AccumulatorOptions } {
  refuseUnknownKeys(fn, options, known);
  const maxBuckets = options.maxBuckets ?? DEFAULT_ACCUMULATOR.maxBuckets;
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1)
    throw new MonitorError(fn, `maxBuckets must be an integer >= 1, got ${describeValue(maxBuckets)}`);
  const title = options.title ?? 'gradpipe report';
  if (typeof title !== 'string') throw new MonitorError(fn, `title must be a string, got ${describeValue(title)}`);
  return {
    title,
    accumulator: {
      ...DEFAULT_ACCUMULATOR,
      maxBuckets,
      layerBuckets: Math.min(maxBuckets, DEFAULT_ACCUMULATOR.layerBuckets),
      ...spikeOptions(fn, options),
    },
  };
}

/** A run being drawn: its label, files and accumulated figures. */
export interface AccumulatedRun {
  run: string;
  files: string[];
  acc: RunAccumulator;
}

/**
 * The page data from accumulated runs: all runs share one bucket size per series (the largest any run needed),
 * so their points line up. Mutates the accumulators (see {@link RunAccumulator.series}).
 */
export function chartDataFrom(runs: readonly AccumulatedRun[], title: string, options: AccumulatorOptions): ChartData {
  const normSize = Math.max(1, ...runs.map((r) => r.acc.normBucketSize));
  const lossSize = Math.max(1, ...runs.map((r) => r.acc.lossBucketSize));
  return {
    title,
    bucketSize: Math.max(normSize, lossSize),
    maxSteps: Math.max(0, ...runs.map((r) => r.acc.stepCount)),
    spikes: { window: options.spikeWindow, z: options.spikeZ },
    runs: runs.map((r) => {
      const summary = { ...r.acc.summary(), run: r.run };
      const { norms, loss, layers } = r.acc.series(normSize, lossSize);
      const out: RunChartData = { run: r.run, files: r.files, summary, norms, loss };
      if (layers !== undefined) out.layers = layers;
      return out;
    }),
  };
}

/**
 * Turns runs' records into the data the page draws: summaries from every step, series downsampled to at most
 * `maxBuckets` buckets. `writeReport` computes the same while it streams the logs.
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
  const fn = 'buildChartData';
  if (!Array.isArray(runs)) throw new MonitorError(fn, `runs must be an array of { run, files, records }, got ${describeValue(runs)}`);
  const { title, accumulator } = chartOptions(fn, options);
  const accumulated = runs.map((r) => {
    const acc = new RunAccumulator(r.run, accumulator);
    for (const record of inStepOrder(r.records)) acc.add(record);
    return { run: r.run, files: r.files, acc };
  });
  return chartDataFrom(accumulated, title, accumulator);
}
