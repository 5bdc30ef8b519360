import type { StepRecord } from './StepRecord.js';

/** The figures of one run, from all of its steps (never from downsampled data). */
export interface RunSummary {
  /** The run name. */
  run: string;
  /** Number of steps with a step line. */
  steps: number;
  /** Steps where some transform clipped. */
  clipped: number;
  /** `clipped / steps` (0 for an empty run). */
  clippedFraction: number;
  /** Steps a guard skipped. */
  skipped: number;
  /** The largest finite gradient norm before clipping; null when there is none. */
  maxNorm: number | null;
  /** The loss of the last step that has one: a number, null when that loss was non-finite, undefined when no step has a loss. */
  finalLoss: number | null | undefined;
  /** The first step whose gradient norm or loss was non-finite (null in the log); undefined when none was. */
  firstNonFiniteStep: number | undefined;
  /** The smallest step index in the run (notes included); undefined for an empty run. */
  firstStep: number | undefined;
  /** The largest step index in the run (notes included); undefined for an empty run. */
  lastStep: number | undefined;
}

/**
 * Summarizes the records of one run (as returned by `readJsonl`, filtered to that run).
 *
 * @example
 * ```ts
 * import { readJsonl, summarizeRun } from '@gradpipe/monitor';
 * const s = summarizeRun('clip', await readJsonl('runs/clip.jsonl'));
 * console.log(`${s.steps} steps, ${(100 * s.clippedFraction).toFixed(1)}% clipped, max norm ${s.maxNorm}`);
 * ```
 */
export function summarizeRun(run: string, records: readonly StepRecord[]): RunSummary {
  let steps = 0;
  let clipped = 0;
  let skipped = 0;
  let maxNorm: number | null = null;
  let finalLoss: number | null | undefined;
  let finalLossStep = -1;
  let firstNonFiniteStep: number | undefined;
  let firstStep: number | undefined;
  let lastStep: number | undefined;
  for (const r of records) {
    if (r.loss !== undefined && r.step >= finalLossStep) {
      finalLoss = r.loss;
      finalLossStep = r.step;
    }
    const nonFinite = r.normBefore === null || r.normAfter === null || r.loss === null;
    if (nonFinite && (firstNonFiniteStep === undefined || r.step < firstNonFiniteStep)) firstNonFiniteStep = r.step;
    if (firstStep === undefined || r.step < firstStep) firstStep = r.step;
    if (lastStep === undefined || r.step > lastStep) lastStep = r.step;
    if (r.normBefore === undefined) continue; // only notes for this step
    steps++;
    if (r.clipped === true) clipped++;
    if (r.skipped === true) skipped++;
    if (typeof r.normBefore === 'number' && (maxNorm === null || r.normBefore > maxNorm)) maxNorm = r.normBefore;
  }
  return { run, steps, clipped, clippedFraction: steps === 0 ? 0 : clipped / steps, skipped, maxNorm, finalLoss, firstNonFiniteStep, firstStep, lastStep };
}
