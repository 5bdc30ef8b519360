import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import type { StepEvent } from '../pipeline/StepStats.js';

/**
 * Lets through only the steps where some transform clipped the gradients.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm, onlyClipped } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * pipe.events$.pipe(onlyClipped()).subscribe((e) => console.log(`step ${e.step}: ${e.normBefore} → ${e.normAfter}`));
 * ```
 */
export function onlyClipped(): MonoTypeOperatorFunction<StepEvent> {
  return filter((e) => e.clipped);
}

/**
 * Lets through only the steps a guard skipped.
 *
 * @example
 * ```ts
 * import { GradientPipeline, nanGuard, onlySkipped } from '@gradpipe/core';
 * const pipe = new GradientPipeline([nanGuard()]);
 * pipe.events$.pipe(onlySkipped()).subscribe((e) => console.warn(`skipped step ${e.step}: NaN in ${e.nonFinite}`));
 * ```
 */
export function onlySkipped(): MonoTypeOperatorFunction<StepEvent> {
  return filter((e) => e.skipped);
}

/**
 * Lets through every `n`-th step (steps 0, n, 2n, …), for loggers that need not see all of them.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm, everyNthStep } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * pipe.events$.pipe(everyNthStep(100)).subscribe((e) => console.log(e.step, e.normBefore));
 * ```
 */
export function everyNthStep(n: number): MonoTypeOperatorFunction<StepEvent> {
  if (!Number.isInteger(n) || n < 1) throw new GradpipeError('everyNthStep', `n must be an integer >= 1, got ${describeValue(n)}`);
  return filter((e) => e.step % n === 0);
}

/**
 * Lets through the steps whose incoming norm exceeds `limit` — early warning of an explosion.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm, normAbove } from '@gradpipe/core';
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * pipe.events$.pipe(normAbove(100)).subscribe((e) => console.warn(`gradient norm ${e.normBefore} at step ${e.step}`));
 * ```
 */
export function normAbove(limit: number): MonoTypeOperatorFunction<StepEvent> {
  if (typeof limit !== 'number' || Number.isNaN(limit))
    throw new GradpipeError('normAbove', `limit must be a number, got ${describeValue(limit)}`);
  return filter((e) => !(e.normBefore <= limit));
}
