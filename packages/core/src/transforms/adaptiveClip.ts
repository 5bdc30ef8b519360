import type { TensorOps } from '../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import {
  isPlainObject,
  rejectNullOptions,
  rejectUnknownKeys,
  requireBoolean,
  requireInRange,
  requireInteger,
  requireOneOf,
  requirePositiveFinite,
} from '../errors/validation.js';
import type { GradientTransform, JsonObject } from '../pipeline/GradientTransform.js';
import { clipFactor, countElements } from './support/clipFactor.js';
import { parseMaxNorm } from './support/normBound.js';
import { scaleAll } from './support/scaleAll.js';
import { MAX_NORM, nonNegative, norms, stateObject } from './support/stateChecks.js';

/** AutoClip (Seetharaman et al. 2020): clip to a percentile of the gradient norms seen so far. */
export interface PercentileClipOptions {
  /** Selects AutoClip. */
  method: 'percentile';
  /** Which percentile of the norm history is the threshold, in [0, 100]. Default 10. */
  percentile?: number;
  /** Only the last `window` norms count, this step's included (`window: 1` never clips). Default: all. */
  window?: number;
}

/** ZClip (Kumar et al. 2025): clip spikes of the norm, detected by a z-score against EMA statistics. */
export interface ZScoreClipOptions {
  /** Selects ZClip. */
  method: 'zscore';
  /** EMA smoothing of the mean and variance of the norm, in [0, 1). Default 0.97. */
  alpha?: number;
  /** A norm more than this many standard deviations above the mean is a spike. Default 2.5. */
  zThreshold?: number;
  /** Steps whose norms initialise the mean and variance before any spike is clipped. Default 25. */
  warmupSteps?: number;
  /** Hard cap on the norm, applied during warm-up and after it. Default: none (`Infinity`). */
  maxNorm?: number | 'inf';
  /** Added to the standard deviation before dividing by it. Default 1e-6. */
  eps?: number;
  /**
   * What a spike is clipped to (ZClip's `clip_option`): `'adaptiveScaling'` (default), mean + zThreshold²·std/z,
   * lower the larger the spike; or `'mean'`, the EMA mean itself.
   */
  clipOption?: 'adaptiveScaling' | 'mean';
  /**
   * Multiplies the adaptive threshold of `'adaptiveScaling'` (ZClip's `clip_factor`; 0.5–0.9 clip harder).
   * As in ZClip's code, the whole threshold is multiplied, mean included. Default 1.
   */
  clipFactor?: number;
  /** Leave the EMA statistics unchanged on a spike (ZClip's `skip_update_on_spike`); it is still clipped. Default false. */
  skipUpdateOnSpike?: boolean;
}

/** Options of {@link adaptiveClip}. */
export type AdaptiveClipOptions = PercentileClipOptions | ZScoreClipOptions;

/** State of the percentile method: the norm history, sorted, and (with a window) in arrival order. */
export interface PercentileClipState {
  /** The remembered norms, ascending. */
  sorted: number[];
  /** With a `window`: the same norms in the order they came, so the oldest can be dropped. Else empty. */
  recent: number[];
}

/** State of the z-score method: warm-up norms, then the EMA mean and variance of the norm. */
export interface ZScoreClipState {
  /** Norms collected during warm-up (emptied when warm-up ends). */
  warmup: number[];
  /** EMA of the norm; `null` during warm-up. */
  mean: number | null;
  /** EMA of the squared deviation from the mean; `null` during warm-up. */
  variance: number | null;
}

/**
 * Clips the global L2 norm to a threshold learnt from the norms of earlier steps.
 *
 * - `method: 'percentile'` (AutoClip): the threshold is the `percentile`-th percentile (linear interpolation,
 *   as numpy's default) of all norms so far including this step's, or of the last `window` of them.
 * - `method: 'zscore'` (ZClip): after `warmupSteps` steps, a norm whose z-score against the EMA mean and
 *   standard deviation exceeds `zThreshold` is clipped to `mean + zThreshold² · std / z`; the statistics are
 *   then updated with the clipped norm.
 *
 * Skipped steps and non-finite norms never enter the statistics. The state is JSON, so a resumed run clips
 * exactly as an uninterrupted one.
 *
 * @example
 * ```ts
 * import { GradientPipeline, nanGuard, adaptiveClip } from '@gradpipe/core';
 * const autoClip = new GradientPipeline([nanGuard(), adaptiveClip({ method: 'percentile', percentile: 10 })]);
 * const zClip = new GradientPipeline([nanGuard(), adaptiveClip({ method: 'zscore', maxNorm: 10 })]);
 * ```
 */
export function adaptiveClip(options: AdaptiveClipOptions): GradientTransform<PercentileClipState | ZScoreClipState> {
  const fn = 'adaptiveClip';
  if (!isPlainObject(options)) {
    throw new GradpipeError(fn, `options must be a plain object with a method, got ${describeValue(options)}`);
  }
  if (options.method === 'percentile') return percentileClip(fn, options) as GradientTransform<PercentileClipState | ZScoreClipState>;
  if (options.method === 'zscore') return zScoreClip(fn, options) as GradientTransform<PercentileClipState | ZScoreClipState>;
  throw new GradpipeError(fn, `method must be 'percentile' or 'zscore', got ${describeValue((options as { method?: unknown }).method)}`);
}

function percentileClip(fn: string, options: PercentileClipOptions): GradientTransform<PercentileClipState> {
  rejectUnknownKeys(fn, options, ['method', 'percentile', 'window']);
  rejectNullOptions(fn, options, ['method']);
  const percentile = requireInRange(fn, 'percentile', options.percentile ?? 10, 0, 100);
  const window = options.window === undefined ? undefined : requireInteger(fn, 'window', options.window, 1);
  const config: JsonObject = { method: 'percentile', percentile };
  if (window !== undefined) config.window = window;
  return {
    kind: fn,
    config,
    init: () => ({ sorted: [], recent: [] }),
    restoreState(saved) {
      const s = stateObject(saved, ['sorted', 'recent']);
      const sorted = norms(s.sorted!, 'sorted', window === undefined ? Infinity : window - 1);
      if (sorted.some((v, i) => i > 0 && v < sorted[i - 1]!)) throw new Error('sorted must be in ascending order');
      const recent = norms(s.recent!, 'recent', window === undefined ? 0 : window - 1);
      // With a window, `recent` holds the same norms as `sorted`, in arrival order.
      if (window !== undefined && (recent.length !== sorted.length || [...recent].sort((a, b) => a - b).some((v, i) => v !== sorted[i]))) {
        throw new Error('recent must hold the same norms as sorted (in arrival order)');
      }
      return { sorted, recent };
    },
    update(grads, state, ctx) {
      const { ops } = ctx;
      const norm = ctx.globalNorm(grads, 2);
      const threshold = percentileWith(ops, state.sorted, norm, percentile);
      const { factor, clipped } = clipFactor(ops, norm, threshold, { elements: countElements(ops, grads), p: 2 });
      return {
        grads: scaleAll(ops, grads, factor),
        decisions: { threshold, clipped },
        figures: { norm },
        commit(figures, outcome) {
          if (outcome.skipped || !Number.isFinite(figures.norm!)) return state;
          const sorted = state.sorted.slice();
          const recent = window === undefined ? state.recent : [...state.recent, figures.norm!];
          insertSorted(sorted, figures.norm!);
          // Keep window - 1 norms: with the next step's own norm they make the last `window`.
          while (window !== undefined && recent.length > window - 1) removeSorted(sorted, recent.shift()!);
          return { sorted, recent };
        },
      };
    },
  };
}

/**
 * The q-th percentile (numpy 'linear') of `sorted ∪ {x}` for a backend scalar `x`, without reading `x` back:
 * the k-th smallest of `sorted ∪ {x}` is `clamp(x, sorted[k-1], sorted[k])` (with ±∞ beyond the ends).
 */
function percentileWith<T, S>(ops: TensorOps<T, S>, sorted: readonly number[], x: S, q: number): S {
  const n = sorted.length; // n + 1 values in all
  const rank = (q / 100) * n;
  const lo = Math.floor(rank);
  const frac = rank - lo;
  const kth = (k: number): S => {
    const below = k - 1 >= 0 ? sorted[k - 1]! : -Infinity;
    const above = k < n ? sorted[k]! : Infinity;
    return ops.min(ops.max(x, ops.scalar(below)), ops.scalar(above));
  };
  const a = kth(lo);
  if (frac === 0) return a;
  const b = kth(Math.min(lo + 1, n));
  return ops.add(a, ops.mul(ops.sub(b, a), ops.scalar(frac)));
}

function insertSorted(sorted: number[], value: number): void {
  sorted.splice(searchSorted(sorted, value, true), 0, value);
}

function removeSorted(sorted: number[], value: number): void {
  sorted.splice(searchSorted(sorted, value, false), 1);
}

/**
 * Binary search in an ascending array: the first index whose value is > `value` (`after`, where an equal value
 * goes to keep insertion stable) or ≥ `value` (else: where an equal value already is).
 */
function searchSorted(sorted: readonly number[], value: number, after: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (after ? sorted[mid]! <= value : sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function zScoreClip(fn: string, options: ZScoreClipOptions): GradientTransform<ZScoreClipState> {
  rejectUnknownKeys(fn, options, [
    'method',
    'alpha',
    'zThreshold',
    'warmupSteps',
    'maxNorm',
    'eps',
    'clipOption',
    'clipFactor',
    'skipUpdateOnSpike',
  ]);
  rejectNullOptions(fn, options, ['method']);
  const alpha = requireInRange(fn, 'alpha', options.alpha ?? 0.97, 0, 1, false, true);
  const zThreshold = requirePositiveFinite(fn, 'zThreshold', options.zThreshold ?? 2.5);
  const warmupSteps = requireInteger(fn, 'warmupSteps', options.warmupSteps ?? 25, 1);
  const maxNorm = options.maxNorm === undefined ? undefined : parseMaxNorm(fn, options.maxNorm);
  const eps = requireInRange(fn, 'eps', options.eps ?? 1e-6, 0, Infinity, false, true);
  const clipOption = requireOneOf(fn, 'clipOption', options.clipOption ?? 'adaptiveScaling', ['adaptiveScaling', 'mean']);
  const scaleBy = requirePositiveFinite(fn, 'clipFactor', options.clipFactor ?? 1);
  const skipUpdateOnSpike = requireBoolean(fn, 'skipUpdateOnSpike', options.skipUpdateOnSpike ?? false);
  if (clipOption === 'mean' && options.clipFactor !== undefined) {
    throw new GradpipeError(fn, `clipFactor scales the 'adaptiveScaling' threshold only, but clipOption is 'mean'`);
  }
  const config: JsonObject = { method: 'zscore', alpha, zThreshold, warmupSteps, eps };
  if (maxNorm !== undefined && maxNorm !== Infinity) config.maxNorm = maxNorm;
  // Written only when not the default, so configs saved before these options existed read back the same.
  if (clipOption !== 'adaptiveScaling') config.clipOption = clipOption;
  if (scaleBy !== 1) config.clipFactor = scaleBy;
  if (skipUpdateOnSpike) config.skipUpdateOnSpike = true;
  return {
    kind: fn,
    config,
    init: () => ({ warmup: [], mean: null, variance: null }),
    restoreState(saved) {
      const s = stateObject(saved, ['warmup', 'mean', 'variance']);
      const warmup = norms(s.warmup!, 'warmup', warmupSteps - 1);
      if (s.mean === null && s.variance === null) return { warmup, mean: null, variance: null };
      const mean = nonNegative(s.mean!, 'mean');
      const variance = nonNegative(s.variance!, 'variance', MAX_NORM ** 2);
      if (warmup.length > 0) throw new Error('warmup must be empty once mean and variance are set');
      return { warmup, mean, variance };
    },
    update(grads, state, ctx) {
      const { ops } = ctx;
      const norm = ctx.globalNorm(grads, 2);
      const cap = ops.scalar(maxNorm ?? Infinity);
      let threshold = cap;
      let spike = ops.scalar(0);
      let effective = norm; // the norm that enters the statistics: the clipped one on a spike
      if (state.mean !== null && state.variance !== null) {
        const mean = ops.scalar(state.mean);
        const std = Math.sqrt(state.variance);
        const z = ops.div(ops.sub(norm, mean), ops.scalar(std + eps));
        spike = ops.greater(z, ops.scalar(zThreshold));
        const adaptive =
          clipOption === 'mean' ? mean : ops.mul(ops.add(mean, ops.div(ops.scalar(zThreshold * zThreshold * std), z)), ops.scalar(scaleBy));
        effective = ops.select(spike, adaptive, norm);
        threshold = ops.min(ops.select(spike, adaptive, ops.scalar(state.mean + zThreshold * (std + eps))), cap);
      }
      const { factor, clipped } = clipFactor(ops, norm, threshold, { elements: countElements(ops, grads), p: 2 });
      return {
        grads: scaleAll(ops, grads, factor),
        decisions: { threshold, clipped },
        figures: { norm, spike, effective },
        commit(figures, outcome) {
          if (outcome.skipped || !Number.isFinite(figures.norm!)) return state;
          if (state.mean === null || state.variance === null) {
            const warmup = [...state.warmup, figures.norm!];
            if (warmup.length < warmupSteps) return { warmup, mean: null, variance: null };
            const mean = warmup.reduce((s, v) => s + v, 0) / warmup.length;
            const variance = warmup.reduce((s, v) => s + (v - mean) ** 2, 0) / warmup.length;
            return { warmup: [], mean, variance };
          }
          if (skipUpdateOnSpike && figures.spike === 1) return state;
          const g = figures.effective!;
          const mean = alpha * state.mean + (1 - alpha) * g;
          const variance = alpha * state.variance + (1 - alpha) * (g - mean) ** 2;
          return { warmup: [], mean, variance };
        },
      };
    },
  };
}
