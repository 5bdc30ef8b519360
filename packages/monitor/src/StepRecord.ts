import type { StepEvent } from '@gradpipe/core';

/** A JSON value, as it can appear in a log line. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One line of a gradpipe JSONL log as written for a step (see docs/log-format.md). Numbers that were NaN or
 * ±Infinity are `null`: JSON has no non-finite numbers.
 */
export interface StepLine {
  /** The run this step belongs to, e.g. `'clip'`. */
  run: string;
  /** The pipeline's 0-based step index. */
  step: number;
  /** Global L2 norm of the incoming gradients; null when non-finite. */
  normBefore: number | null;
  /** Global L2 norm of the gradients after the pipeline; null when non-finite. */
  normAfter: number | null;
  /** True when some transform clipped. */
  clipped: boolean;
  /** True when a guard skipped the step. */
  skipped: boolean;
  /** The clipping threshold in force, when a transform reports one. */
  threshold?: number | null;
  /** The step's loss, when known. */
  loss?: number | null;
  /** Names of the incoming tensors that held NaN or ±Infinity (only when there were some). */
  nonFinite?: string[];
  /** Per-tensor L2 norms (only when the pipeline was made with `tensorNorms: true`). */
  tensorNorms?: Record<string, number | null>;
  /** The recorder's `extra` fields. */
  [extra: string]: JsonValue | undefined;
}

/**
 * A line added later by the training code, e.g. a loss only known after the step: `note: true`, the run and
 * step it belongs to, and its fields. Readers merge it into that step's record.
 */
export interface NoteLine {
  run: string;
  step: number;
  note: true;
  [field: string]: JsonValue | undefined;
}

/**
 * A step as read back: a step line with its notes merged in. A step that only ever got notes (no step line,
 * e.g. the process died in between) has no `normBefore`/`normAfter`/`clipped`/`skipped`.
 */
export interface StepRecord {
  run: string;
  step: number;
  normBefore?: number | null;
  normAfter?: number | null;
  clipped?: boolean;
  skipped?: boolean;
  threshold?: number | null;
  loss?: number | null;
  nonFinite?: string[];
  tensorNorms?: Record<string, number | null>;
  [field: string]: JsonValue | undefined;
}

/** The field names a step line defines itself; `extra` and notes may not use them (notes may set `loss`). */
export const RESERVED_FIELDS: readonly string[] = [
  'run',
  'step',
  'note',
  'normBefore',
  'normAfter',
  'clipped',
  'skipped',
  'threshold',
  'loss',
  'nonFinite',
  'tensorNorms',
];

/** Turns a pipeline event into the object written as its log line. */
export function toStepLine(event: StepEvent, run: string, extra: Readonly<Record<string, JsonValue>>, tensorNorms: boolean): StepLine {
  const line: StepLine = {
    run,
    step: event.step,
    normBefore: event.normBefore,
    normAfter: event.normAfter,
    clipped: event.clipped,
    skipped: event.skipped,
  };
  if (event.threshold !== undefined) line.threshold = event.threshold;
  if (event.loss !== undefined) line.loss = event.loss;
  if (event.nonFinite.length > 0) line.nonFinite = [...event.nonFinite];
  if (tensorNorms && event.tensorNorms !== undefined) line.tensorNorms = { ...event.tensorNorms };
  // JSON.stringify writes NaN and ±Infinity as null, which is exactly the documented format.
  return Object.assign(line, extra);
}
