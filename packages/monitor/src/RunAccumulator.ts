import { Buckets } from './Buckets.js';
import type { LossSeries, NormSeries } from './buildChartData.js';
import { type LayerSeries, LayerTracker } from './LayerTracker.js';
import { countNonFinite, emptyCounts } from './NonFiniteCounts.js';
import { SpikeDetector } from './SpikeDetector.js';
import type { StepRecord } from './StepRecord.js';
import type { RunSummary } from './summarizeRun.js';

/** How a run is summarized and drawn; the defaults are the report's. */
export interface AccumulatorOptions {
  /** At most this many buckets per series. Default 4000. */
  maxBuckets: number;
  /** At most this many buckets for the per-layer series. Default min(maxBuckets, 1000). */
  layerBuckets: number;
  /** Trailing window of the spike rule. Default 100. */
  spikeWindow: number;
  /** Robust z-score above which a value is a spike. Default 6. */
  spikeZ: number;
}

export const DEFAULT_ACCUMULATOR: AccumulatorOptions = { maxBuckets: 4000, layerBuckets: 1000, spikeWindow: 100, spikeZ: 6 };

// Flag bits of the norm buckets and the loss buckets.
const CLIPPED = 1;
const SKIPPED = 2;
const NORM_NON_FINITE = 4;
const NORM_SPIKE = 8;
const LOSS_NON_FINITE = 1;
const LOSS_SPIKE = 2;

/** Six significant digits are plenty on screen and keep the page small. */
function display(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Number(value.toPrecision(6)) : null;
}

const isNonFinite = (v: number | null | undefined) => v === null || (typeof v === 'number' && !Number.isFinite(v));

/**
 * Everything the report knows about one run, built from its records one at a time, in step order: the summary
 * figures (exact: counted over every step), the downsampled series, the spike detectors and the per-layer
 * figures. Its memory does not depend on how many steps it has seen. `writeReport` feeds it straight from the
 * file, `buildChartData` and `summarizeRun` from records in memory, so both give the same answers.
 */
export class RunAccumulator {
  private steps = 0;
  private clipped = 0;
  private skipped = 0;
  private maxNorm: number | null = null;
  private finalLoss: number | null | undefined;
  private firstNonFinite: RunSummary['firstNonFinite'];
  private firstStep: number | undefined;
  private lastStep: number | undefined;
  private nonFiniteNorms = emptyCounts();
  private nonFiniteLosses = emptyCounts();
  private normSpikes = 0;
  private lossSpikes = 0;
  private norms: Buckets;
  private losses: Buckets;
  private normSpike: SpikeDetector;
  private lossSpike: SpikeDetector;
  private layers: LayerTracker;
  private readonly scratch: (number | null | undefined)[] = [null, null, null];

  constructor(
    readonly run: string,
    readonly options: AccumulatorOptions = DEFAULT_ACCUMULATOR,
  ) {
    this.norms = new Buckets(options.maxBuckets, 3);
    this.losses = new Buckets(options.maxBuckets, 1);
    this.normSpike = new SpikeDetector(options.spikeWindow, options.spikeZ);
    this.lossSpike = new SpikeDetector(options.spikeWindow, options.spikeZ);
    this.layers = new LayerTracker(options.layerBuckets);
  }

  /** Steps per bucket of the norm series so far. */
  get normBucketSize(): number {
    return this.norms.size;
  }

  /** Steps per bucket of the loss series so far. */
  get lossBucketSize(): number {
    return this.losses.size;
  }

  /** Step records seen so far (records with only notes are not counted). */
  get stepCount(): number {
    return this.steps;
  }

  /** Adds the next record; records must come in ascending step order. */
  add(r: StepRecord): void {
    const step = r.step;
    if (this.firstStep === undefined) this.firstStep = step;
    this.lastStep = step;
    const loss = r.loss;
    if (loss !== undefined) this.finalLoss = loss;
    if (this.firstNonFinite === undefined) {
      const field = isNonFinite(r.normBefore)
        ? 'normBefore'
        : isNonFinite(r.normAfter)
          ? 'normAfter'
          : isNonFinite(loss)
            ? 'loss'
            : undefined;
      if (field !== undefined) this.firstNonFinite = { step, field, value: r[field] as number | null };
    }
    if (r.normBefore !== undefined) {
      this.steps++;
      let flags = 0;
      if (r.clipped === true) {
        this.clipped++;
        flags |= CLIPPED;
      }
      if (r.skipped === true) {
        this.skipped++;
        flags |= SKIPPED;
      }
      const before = r.normBefore;
      if (countNonFinite(this.nonFiniteNorms, before) || isNonFinite(r.normAfter)) flags |= NORM_NON_FINITE;
      if (typeof before === 'number' && Number.isFinite(before)) {
        if (this.maxNorm === null || before > this.maxNorm) this.maxNorm = before;
        if (this.normSpike.isSpike(before)) {
          this.normSpikes++;
          flags |= NORM_SPIKE;
        }
      }
      const values = this.scratch;
      values[0] = before;
      values[1] = r.normAfter;
      values[2] = r.threshold;
      this.norms.add(step, values, flags);
      if (r.tensorNorms !== undefined) this.layers.add(step, r.tensorNorms);
    }
    if (loss !== undefined) {
      let flags = 0;
      if (countNonFinite(this.nonFiniteLosses, loss)) flags |= LOSS_NON_FINITE;
      else if (this.lossSpike.isSpike(loss as number)) {
        this.lossSpikes++;
        flags |= LOSS_SPIKE;
      }
      this.scratch[0] = loss;
      this.losses.add(step, this.scratch, flags);
    }
  }

  /** The summary figures of every step added so far. */
  summary(): RunSummary {
    return {
      run: this.run,
      steps: this.steps,
      clipped: this.clipped,
      clippedFraction: this.steps === 0 ? 0 : this.clipped / this.steps,
      skipped: this.skipped,
      maxNorm: this.maxNorm,
      finalLoss: this.finalLoss,
      firstNonFiniteStep: this.firstNonFinite?.step,
      firstNonFinite: this.firstNonFinite === undefined ? undefined : { ...this.firstNonFinite },
      nonFiniteNorms: { ...this.nonFiniteNorms },
      nonFiniteLosses: { ...this.nonFiniteLosses },
      normSpikes: this.normSpikes,
      lossSpikes: this.lossSpikes,
      firstStep: this.firstStep,
      lastStep: this.lastStep,
      layers: this.layers.health(),
    };
  }

  /**
   * The drawn series, coarsened to at least `normSize` / `lossSize` steps per bucket (so several runs share one
   * bucket size). Mutates the buckets: call it on a {@link RunAccumulator.clone} to keep adding afterwards.
   */
  series(normSize = 1, lossSize = 1): { norms: NormSeries; loss: LossSeries; layers: LayerSeries | undefined } {
    this.norms.coarsen(normSize);
    this.losses.coarsen(lossSize);
    return { norms: normSeries(this.norms), loss: lossSeries(this.losses), layers: this.layers.series() };
  }

  /** An independent copy: the live server draws a copy while the original keeps reading. */
  clone(): RunAccumulator {
    const copy = Object.assign(Object.create(RunAccumulator.prototype) as RunAccumulator, this);
    copy.firstNonFinite = this.firstNonFinite === undefined ? undefined : { ...this.firstNonFinite };
    copy.nonFiniteNorms = { ...this.nonFiniteNorms };
    copy.nonFiniteLosses = { ...this.nonFiniteLosses };
    copy.norms = this.norms.clone();
    copy.losses = this.losses.clone();
    copy.normSpike = this.normSpike.clone();
    copy.lossSpike = this.lossSpike.clone();
    copy.layers = this.layers.clone();
    (copy as unknown as { scratch: unknown[] }).scratch = [null, null, null];
    return copy;
  }
}

function normSeries(b: Buckets): NormSeries {
  const out: NormSeries = { step: [], before: [], after: [], threshold: [], clipped: [], skipped: [], nonFinite: [], spike: [] };
  for (let k = 0; k < b.count; k++) {
    const [b0, b1, maxAt] = b.pair(k, 0);
    const [a0, a1] = b.pair(k, 1);
    const [t0, t1] = b.pair(k, 2);
    const flags = b.flags[k]!;
    const points = b.points(k);
    // Markers go on the point that shows the bucket's largest norm, once per bucket; non-finite on its first point.
    const marked = Math.min(maxAt, points - 1);
    for (let p = 0; p < points; p++) {
      out.step.push(p === 0 ? b.first[k]! : b.last[k]!);
      out.before.push(display(p === 0 ? b0 : b1));
      out.after.push(display(p === 0 ? a0 : a1));
      out.threshold.push(display(p === 0 ? t0 : t1));
      out.clipped.push(p === marked && flags & CLIPPED ? 1 : 0);
      out.skipped.push(p === marked && flags & SKIPPED ? 1 : 0);
      out.spike.push(p === marked && flags & NORM_SPIKE ? 1 : 0);
      out.nonFinite.push(p === 0 && flags & NORM_NON_FINITE ? 1 : 0);
    }
  }
  return out;
}

function lossSeries(b: Buckets): LossSeries {
  const out: LossSeries = { step: [], value: [], nonFinite: [], spike: [] };
  for (let k = 0; k < b.count; k++) {
    const [v0, v1, maxAt] = b.pair(k, 0);
    const flags = b.flags[k]!;
    const points = b.points(k);
    const marked = Math.min(maxAt, points - 1);
    for (let p = 0; p < points; p++) {
      out.step.push(p === 0 ? b.first[k]! : b.last[k]!);
      out.value.push(display(p === 0 ? v0 : v1));
      out.nonFinite.push(p === 0 && flags & LOSS_NON_FINITE ? 1 : 0);
      out.spike.push(p === marked && flags & LOSS_SPIKE ? 1 : 0);
    }
  }
  return out;
}
