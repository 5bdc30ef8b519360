import type { LayerHealth } from './LayerTracker.js';
import { describeValue, MonitorError } from './MonitorError.js';
import type { NonFiniteCounts } from './NonFiniteCounts.js';
import { DEFAULT_ACCUMULATOR, RunAccumulator } from './RunAccumulator.js';
import type { StepRecord } from './StepRecord.js';

/** The first non-finite figure of a run: where, which field, and which value. */
export interface FirstNonFinite {
  /** The step. */
  step: number;
  /** The field: `normBefore` is looked at first, then `normAfter`, then `loss`. */
  field: 'normBefore' | 'normAfter' | 'loss';
  /** NaN, Infinity or -Infinity; null for an older log's null (non-finite, kind unknown). */
  value: number | null;
}

/** The figures of one run, from all of its steps (never from downsampled data). */
export interface RunSummary {
  /** The run name (as shown: see `writeReport` for how same-named runs of different files are told apart). */
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
  /**
   * The loss of the last step that has one: a number (NaN or ±Infinity when so), null when an older log wrote a
   * non-finite loss as null, undefined when no step has a loss.
   */
  finalLoss: number | null | undefined;
  /** The first step whose gradient norm (before or after) or loss was non-finite; undefined when none was. */
  firstNonFiniteStep: number | undefined;
  /** What was non-finite at {@link RunSummary.firstNonFiniteStep}; undefined when nothing was. */
  firstNonFinite: FirstNonFinite | undefined;
  /** Steps whose gradient norm before clipping was non-finite, by kind. */
  nonFiniteNorms: NonFiniteCounts;
  /** Steps whose loss was non-finite, by kind. */
  nonFiniteLosses: NonFiniteCounts;
  /** Steps whose gradient norm before clipping was a spike (robust z-score rule; see docs/monitor.md). */
  normSpikes: number;
  /** Steps whose loss was a spike (same rule). */
  lossSpikes: number;
  /** The smallest step index in the run (notes included); undefined for an empty run. */
  firstStep: number | undefined;
  /** The largest step index in the run (notes included); undefined for an empty run. */
  lastStep: number | undefined;
  /** Per-layer health, when the steps carry per-tensor norms (`tensorNorms: true`); empty otherwise. */
  layers: LayerHealth[];
}

/** Options of {@link summarizeRun}. */
export interface SummarizeRunOptions {
  /** Trailing window of the spike rule, in steps. Default 100. */
  spikeWindow?: number;
  /** Robust z-score above which a loss or norm is a spike. Default 6. */
  spikeZ?: number;
}

const KNOWN = ['spikeWindow', 'spikeZ'];

/** Checks the spike options as given to a public function; returns them with defaults filled in. */
export function spikeOptions(fn: string, options: { spikeWindow?: unknown; spikeZ?: unknown }): { spikeWindow: number; spikeZ: number } {
  const spikeWindow = options.spikeWindow ?? DEFAULT_ACCUMULATOR.spikeWindow;
  if (!Number.isInteger(spikeWindow) || (spikeWindow as number) < 3) {
    throw new MonitorError(fn, `spikeWindow must be an integer >= 3, got ${describeValue(spikeWindow)}`);
  }
  const spikeZ = options.spikeZ ?? DEFAULT_ACCUMULATOR.spikeZ;
  if (typeof spikeZ !== 'number' || !Number.isFinite(spikeZ) || spikeZ <= 0) {
    throw new MonitorError(fn, `spikeZ must be a finite number > 0, got ${describeValue(spikeZ)}`);
  }
  return { spikeWindow: spikeWindow as number, spikeZ };
}

/** Throws a MonitorError naming `fn` for a key of `options` that is not in `known`. */
export function refuseUnknownKeys(fn: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MonitorError(fn, `options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new MonitorError(fn, `unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
  }
}

/** The records of one run in step order (a stable sort, paid only when they are out of order). */
export function inStepOrder(records: readonly StepRecord[]): readonly StepRecord[] {
  const inOrder = records.every((s, i) => i === 0 || (records[i - 1] as StepRecord).step <= s.step);
  return inOrder ? records : [...records].sort((a, b) => a.step - b.step);
}

/**
 * Summarizes the records of one run (as returned by `readJsonl`, filtered to that run; any order). The same
 * figures as the report's summary table, which `writeReport` computes while streaming the file.
 *
 * @example
 * ```ts
 * import { readJsonl, summarizeRun } from '@gradpipe/monitor';
 * const s = summarizeRun('clip', await readJsonl('runs/clip.jsonl'));
 * console.log(`${s.steps} steps, ${(100 * s.clippedFraction).toFixed(1)}% clipped, max norm ${s.maxNorm}`);
 * for (const layer of s.layers) if (layer.flag !== 'ok') console.log(`${layer.name}: ${layer.flag} (${layer.reason})`);
 * ```
 */
export function summarizeRun(run: string, records: readonly StepRecord[], options: SummarizeRunOptions = {}): RunSummary {
  const fn = 'summarizeRun';
  if (typeof run !== 'string') throw new MonitorError(fn, `run must be a string, got ${describeValue(run)}`);
  if (!Array.isArray(records))
    throw new MonitorError(fn, `records must be an array of step records (from readJsonl), got ${describeValue(records)}`);
  refuseUnknownKeys(fn, options, KNOWN);
  const acc = new RunAccumulator(run, { ...DEFAULT_ACCUMULATOR, ...spikeOptions(fn, options) });
  for (const r of inStepOrder(records)) acc.add(r);
  return acc.summary();
}
