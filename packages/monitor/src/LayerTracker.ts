import { Buckets } from './Buckets.js';
import { formatNumber } from './format/formatNumber.js';
import { countNonFinite, emptyCounts, type NonFiniteCounts } from './NonFiniteCounts.js';

/** Steps in the early and the recent window of the layer-health rule. */
export const LAYER_WINDOW = 100;
/** Below this recent median a layer is vanishing whatever the others do. */
export const VANISHING_ABSOLUTE = 1e-8;
/** Below this fraction of the median over all layers (of their recent medians) a layer is vanishing. */
export const VANISHING_RELATIVE = 1e-6;
/** A layer whose recent median is more than this many times its early median is exploding. */
export const EXPLODING_GROWTH = 1e6;

/**
 * One layer's (one tensor's) gradient health over a run, from the per-tensor norms a pipeline made with
 * `tensorNorms: true` logs. The flag rule (also in docs/monitor.md):
 *
 * - `'exploding'` when some step's norm of the layer was NaN or ±Infinity, or when its recent median is more
 *   than 1e6 times its early median (the median of its first 100 finite norms);
 * - else `'vanishing'` when its recent median (the median of its last 100 finite norms) is below 1e-8, or below
 *   1e-6 times the median over all layers of their recent medians;
 * - else `'ok'`.
 */
export interface LayerHealth {
  /** The tensor's name, as the pipeline got it (e.g. `'lstm/kernel'`). */
  name: string;
  /** The smallest finite norm over every step; null when there was none. */
  min: number | null;
  /** The recent median: the median of the layer's last 100 finite norms; null when there was none. */
  median: number | null;
  /** The norm at the last step that logged the layer (NaN or ±Infinity when so; null: an older log's non-finite). */
  last: number | null;
  /** 'vanishing', 'exploding' or 'ok', by the rule above. */
  flag: 'vanishing' | 'exploding' | 'ok';
  /** Why the layer is flagged, in words (empty for 'ok'). */
  reason: string;
  /** The early median: the median of the layer's first 100 finite norms; null when there was none. */
  earlyMedian: number | null;
  /** Steps that logged a norm for the layer. */
  steps: number;
  /** Steps whose norm of the layer was non-finite, by kind. */
  nonFinite: NonFiniteCounts;
  /** The first step whose norm of the layer was non-finite; undefined when none was. */
  firstNonFiniteStep: number | undefined;
}

/** Per-layer figures of the report's heatmap and layer lines, downsampled like the other series. */
export interface LayerSeries {
  /** Steps per bucket (a power of two; 1: every step with per-tensor norms is drawn). */
  bucketSize: number;
  /** First step of each bucket (a heatmap column starts there). */
  from: number[];
  /** Last step of each bucket. */
  to: number[];
  /** The x of each line point: a bucket's first and last step (one point for a bucket of one step). */
  step: number[];
  /** One entry per layer, in the order the layers first appeared (the pipeline's tensor order). */
  layers: {
    /** The tensor's name. */
    name: string;
    /** Per bucket: the geometric mean of its positive finite norms (the cell's colour); null when none. */
    mean: (number | null)[];
    /** Per bucket: 1 when some step's norm was NaN or ±Infinity. */
    nonFinite: (0 | 1)[];
    /** Per bucket: 1 when some step's norm was exactly 0. */
    zero: (0 | 1)[];
    /** Per line point (aligned with `step`): the bucket's min and max in the order they happened. */
    line: (number | null)[];
  }[];
}

const NON_FINITE = 1;
const ZERO = 2;

interface Layer {
  name: string;
  min: number;
  last: number | null;
  steps: number;
  early: Float64Array;
  earlyN: number;
  recent: Float64Array;
  recentN: number;
  recentNext: number;
  nonFinite: NonFiniteCounts;
  firstNonFiniteStep: number | undefined;
  buckets: Buckets;
}

/** Four significant digits are plenty for a colour or a line in a small chart, and keep the page small. */
function display4(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : Number(v.toPrecision(4));
}

function median(values: Float64Array, n: number): number | null {
  if (n === 0) return null;
  const s = values.slice(0, n).sort();
  return n % 2 === 1 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Collects the per-tensor norms of one run's steps, given in step order. */
export class LayerTracker {
  private readonly layers: Layer[] = [];
  private readonly index = new Map<string, number>();
  private stepsWithNorms = 0;

  constructor(private readonly limit: number) {}

  /** True once some step had per-tensor norms. */
  get any(): boolean {
    return this.stepsWithNorms > 0;
  }

  /** Adds the per-tensor norms of one step. */
  add(step: number, norms: Readonly<Record<string, number | null>>): void {
    this.stepsWithNorms++;
    for (const name in norms) {
      if (!this.index.has(name)) this.addLayer(name);
    }
    const scratch: (number | null)[] = [null];
    for (const layer of this.layers) {
      const v = norms[layer.name];
      if (v === undefined) {
        layer.buckets.add(step, [null], 0);
        continue;
      }
      layer.steps++;
      layer.last = v;
      let flags = 0;
      if (v === null || !Number.isFinite(v)) {
        countNonFinite(layer.nonFinite, v);
        layer.firstNonFiniteStep ??= step;
        flags = NON_FINITE;
      } else {
        if (v < layer.min) layer.min = v;
        if (v === 0) flags = ZERO;
        if (layer.earlyN < LAYER_WINDOW) layer.early[layer.earlyN++] = v;
        layer.recent[layer.recentNext] = v;
        layer.recentNext = (layer.recentNext + 1) % LAYER_WINDOW;
        if (layer.recentN < LAYER_WINDOW) layer.recentN++;
      }
      scratch[0] = v;
      layer.buckets.add(step, scratch, flags);
    }
  }

  private addLayer(name: string): void {
    const like = this.layers[0]?.buckets;
    this.index.set(name, this.layers.length);
    this.layers.push({
      name,
      min: Infinity,
      last: null,
      steps: 0,
      early: new Float64Array(LAYER_WINDOW),
      earlyN: 0,
      recent: new Float64Array(LAYER_WINDOW),
      recentN: 0,
      recentNext: 0,
      nonFinite: emptyCounts(),
      firstNonFiniteStep: undefined,
      // A layer that first shows up later (a variable created mid-run) still gets the same columns.
      buckets: like === undefined ? new Buckets(this.limit, 1, true) : Buckets.emptyLike(like),
    });
  }

  /** An independent copy. */
  clone(): LayerTracker {
    const copy = new LayerTracker(this.limit);
    copy.stepsWithNorms = this.stepsWithNorms;
    for (const l of this.layers) {
      copy.index.set(l.name, copy.layers.length);
      copy.layers.push({
        ...l,
        early: l.early.slice(),
        recent: l.recent.slice(),
        nonFinite: { ...l.nonFinite },
        buckets: l.buckets.clone(),
      });
    }
    return copy;
  }

  /** Every layer's health, flagged by the rule of {@link LayerHealth}. */
  health(): LayerHealth[] {
    const rows = this.layers.map((l) => ({
      l,
      recent: median(l.recent, l.recentN),
      early: median(l.early, l.earlyN),
    }));
    const recents = Float64Array.from(rows.flatMap((r) => (r.recent === null ? [] : [r.recent])));
    const reference = median(recents, recents.length);
    return rows.map(({ l, recent, early }) => {
      const health: LayerHealth = {
        name: l.name,
        min: l.min === Infinity ? null : l.min,
        median: recent,
        last: l.last,
        flag: 'ok',
        reason: '',
        earlyMedian: early,
        steps: l.steps,
        nonFinite: { ...l.nonFinite },
        firstNonFiniteStep: l.firstNonFiniteStep,
      };
      const bad = l.nonFinite.nan + l.nonFinite.infinity + l.nonFinite.negInfinity + l.nonFinite.unknown;
      if (bad > 0) {
        health.flag = 'exploding';
        health.reason = `non-finite norm at ${bad} step${bad === 1 ? '' : 's'}, first at step ${l.firstNonFiniteStep}`;
      } else if (recent !== null && early !== null && early > 0 && recent > EXPLODING_GROWTH * early) {
        health.flag = 'exploding';
        health.reason = `recent median ${fmt(recent)} is ${fmt(recent / early)} times the early median ${fmt(early)} (> 1e6)`;
      } else if (recent !== null && recent < VANISHING_ABSOLUTE) {
        health.flag = 'vanishing';
        health.reason = `recent median ${fmt(recent)} < 1e-8`;
      } else if (recent !== null && reference !== null && recent < VANISHING_RELATIVE * reference) {
        health.flag = 'vanishing';
        health.reason = `recent median ${fmt(recent)} < 1e-6 × the median over layers ${fmt(reference)}`;
      }
      return health;
    });
  }

  /** The chart series, coarsened to at least `size` steps per bucket. Mutates the buckets: call on a copy to go on. */
  series(size = 1): LayerSeries | undefined {
    if (this.layers.length === 0) return undefined;
    for (const l of this.layers) l.buckets.coarsen(size);
    const b = this.layers[0]!.buckets;
    const out: LayerSeries = { bucketSize: b.size, from: [], to: [], step: [], layers: [] };
    for (let k = 0; k < b.count; k++) {
      out.from.push(b.first[k]!);
      out.to.push(b.last[k]!);
      out.step.push(b.first[k]!);
      if (b.points(k) === 2) out.step.push(b.last[k]!);
    }
    for (const l of this.layers) {
      const lb = l.buckets;
      const layer: LayerSeries['layers'][number] = { name: l.name, mean: [], nonFinite: [], zero: [], line: [] };
      for (let k = 0; k < lb.count; k++) {
        layer.mean.push(display4(lb.geometricMean(k, 0)));
        layer.nonFinite.push(lb.flags[k]! & NON_FINITE ? 1 : 0);
        layer.zero.push(lb.flags[k]! & ZERO ? 1 : 0);
        const [a, c] = lb.pair(k, 0);
        layer.line.push(display4(a));
        if (lb.points(k) === 2) layer.line.push(display4(c));
      }
      out.layers.push(layer);
    }
    return out;
  }
}

/** A figure in a flag's reason: 3 significant digits are enough to say why. */
function fmt(v: number): string {
  return formatNumber(v, 3);
}
