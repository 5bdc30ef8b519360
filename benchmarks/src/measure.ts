/** Timing helpers. Every figure the benchmark reports is a ratio of two timings taken side by side. */

/** Milliseconds taken by `run`. */
export function timeMs(run: () => unknown): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Milliseconds taken by the async `run`. */
export async function timeMsAsync(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A candidate timed against a baseline in the same run. */
export interface Comparison {
  /** Median over repetitions of candidate time / baseline time, each pair timed back to back. */
  ratio: number;
  /** Median baseline time, ms. */
  baselineMs: number;
  /** Median candidate time, ms. */
  candidateMs: number;
  /** Repetitions measured. */
  reps: number;
}

/** What {@link compare} times. */
export interface CompareOptions {
  /** The reference, e.g. copying the same bytes with `TypedArray.prototype.set`. */
  baseline: () => unknown;
  /** What is measured. */
  candidate: () => unknown;
  /** Untimed work before every candidate run, e.g. restoring gradients that the candidate clips in place. */
  prepare?: () => void;
  /** Repetitions (after one untimed warm-up of each). */
  reps: number;
}

/**
 * Times baseline and candidate back to back `reps` times and returns the median of the per-repetition ratios:
 * on a noisy machine a slow moment hits both halves of a pair, so the ratio is steadier than either time.
 */
export function compare({ baseline, candidate, prepare, reps }: CompareOptions): Comparison {
  prepare?.();
  candidate();
  baseline();
  const pairs: [number, number][] = [];
  for (let r = 0; r < reps; r++) {
    prepare?.();
    const b = timeMs(baseline);
    pairs.push([b, timeMs(candidate)]);
  }
  return summarize(pairs);
}

/** {@link compare} for async baseline and candidate (tfjs, ONNX Runtime). */
export async function compareAsync(options: {
  baseline: () => Promise<unknown>;
  candidate: () => Promise<unknown>;
  reps: number;
  warmup?: number;
}): Promise<Comparison> {
  const { baseline, candidate, reps, warmup = 2 } = options;
  for (let w = 0; w < warmup; w++) {
    await baseline();
    await candidate();
  }
  const pairs: [number, number][] = [];
  for (let r = 0; r < reps; r++) {
    // Alternate which goes first, so that neither always runs on a warmer cache.
    if (r % 2 === 0) {
      const b = await timeMsAsync(baseline);
      pairs.push([b, await timeMsAsync(candidate)]);
    } else {
      const c = await timeMsAsync(candidate);
      pairs.push([await timeMsAsync(baseline), c]);
    }
  }
  return summarize(pairs);
}

/** The {@link Comparison} of (baseline ms, candidate ms) pairs: medians of the ratios and of each time. */
function summarize(pairs: readonly [number, number][]): Comparison {
  return {
    ratio: median(pairs.map(([b, c]) => c / b)),
    baselineMs: median(pairs.map(([b]) => b)),
    candidateMs: median(pairs.map(([, c]) => c)),
    reps: pairs.length,
  };
}
