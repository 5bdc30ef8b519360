import { Observable, type OperatorFunction } from 'rxjs';
import { describeValue, MonitorError } from './MonitorError.js';
import { SpikeDetector } from './SpikeDetector.js';
import { refuseUnknownKeys } from './summarizeRun.js';

/** Options of {@link spikes}. */
export interface SpikesOptions {
  /** Trailing window: how many earlier finite values the median and MAD come from. Default 100; at least 3. */
  window?: number;
  /** Robust z-score above which a value is a spike. Default 6. */
  z?: number;
}

/** A loss or gradient norm that jumped, as {@link spikes} reports it. */
export interface Spike {
  /** The step of the jump. */
  step: number;
  /** Which figure jumped: the step's loss, or its gradient norm before clipping. */
  series: 'loss' | 'norm';
  /** The value that jumped. */
  value: number;
  /** The median of the window before it. */
  median: number;
  /** The robust scale: max(1.4826 · MAD, 0.01 · |median|). */
  scale: number;
  /** (value − median) / scale: above the `z` option. */
  z: number;
}

/** What {@link spikes} reads from each event: a pipeline's `StepEvent` or `StepStats` has these fields. */
export interface SpikeInput {
  /** The step index. */
  step: number;
  /** Global L2 norm of the incoming gradients. */
  normBefore: number;
  /** The step's loss, when the training code passed one. */
  loss?: number;
}

/**
 * An rxjs operator for live hooks (alerting, early stopping): from a pipeline's events it emits a {@link Spike}
 * whenever the loss or the gradient norm jumps, by the report's rule: more than `z` robust standard deviations
 * (1.4826 · MAD, at least 1% of the median) above the median of the previous `window` finite values of that
 * figure. Nothing is reported before `window` values have been seen; NaN and ±Infinity are not spikes (watch
 * `event.nonFinite` or a `nanGuard` for those). Each subscription keeps its own window.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * import { spikes } from '@gradpipe/monitor';
 *
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * pipe.events$.pipe(spikes({ window: 50, z: 6 })).subscribe((s) => {
 *   console.warn(`step ${s.step}: ${s.series} jumped to ${s.value} (median ${s.median}, z ${s.z.toFixed(1)})`);
 * });
 * ```
 */
export function spikes(options: SpikesOptions = {}): OperatorFunction<SpikeInput, Spike> {
  const fn = 'spikes';
  refuseUnknownKeys(fn, options, ['window', 'z']);
  const window = options.window ?? 100;
  if (!Number.isInteger(window) || window < 3) throw new MonitorError(fn, `window must be an integer >= 3, got ${describeValue(window)}`);
  const z = options.z ?? 6;
  if (typeof z !== 'number' || !Number.isFinite(z) || z <= 0)
    throw new MonitorError(fn, `z must be a finite number > 0, got ${describeValue(z)}`);
  return (source) =>
    new Observable<Spike>((subscriber) => {
      const norm = new SpikeDetector(window, z);
      const loss = new SpikeDetector(window, z);
      return source.subscribe({
        next: (event) => {
          const n = norm.push(event.normBefore);
          if (n?.spike)
            subscriber.next({ step: event.step, series: 'norm', value: event.normBefore, median: n.median, scale: n.scale, z: n.z });
          if (event.loss === undefined) return;
          const l = loss.push(event.loss);
          if (l?.spike) subscriber.next({ step: event.step, series: 'loss', value: event.loss, median: l.median, scale: l.scale, z: l.z });
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
