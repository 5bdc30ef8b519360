import type { StepEvent } from '@gradpipe/core';
import { encodeNumber, type LoggedNumber } from './nonFinite.js';

/** A JSON value, as it can appear in a log line. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One line of a gradpipe JSONL log as written for a step (see docs/log-format.md). JSON has no non-finite
 * numbers, so NaN, +Infinity and -Infinity are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`;
 * older logs have `null` for all three.
 */
export interface StepLine {
  /** The run this step belongs to, e.g. `'clip'`. */
  run: string;
  /** The pipeline's 0-based step index. */
  step: number;
  /** Global L2 norm of the incoming gradients. */
  normBefore: LoggedNumber;
  /** Global L2 norm of the gradients after the pipeline. */
  normAfter: LoggedNumber;
  /** True when some transform clipped. */
  clipped: boolean;
  /** True when a guard skipped the step. */
  skipped: boolean;
  /** The clipping threshold in force, when a transform reports one. */
  threshold?: LoggedNumber;
  /** The step's loss, when known. */
  loss?: LoggedNumber;
  /** The learning rate of the step's update, when the pipeline was told it (`step(grads, { lr })`). */
  lr?: number;
  /** Names of the incoming tensors that held NaN or ±Infinity (only when there were some). */
  nonFinite?: string[];
  /** Per-tensor L2 norms (only when the pipeline was made with `tensorNorms: true`). */
  tensorNorms?: Record<string, LoggedNumber>;
  /** The recorder's `extra` fields. */
  [extra: string]: JsonValue | undefined;
}

/**
 * A line added later by the training code, e.g. a loss only known after the step: `note: true`, the run and
 * step it belongs to, and its fields. Readers merge it into that step's record.
 */
export interface NoteLine {
  /** The run of the step the note belongs to (the recorder's run). */
  run: string;
  /** The 0-based step index the note belongs to; the step line may come before or after it. */
  step: number;
  /** Always `true`: what tells a note from a step line, which never has this field. */
  note: true;
  /** The fields added to the step, e.g. `loss`; never a step line's own figures such as `normBefore`. */
  [field: string]: JsonValue | undefined;
}

/**
 * A step as read back: a step line with its notes merged in. A step that only ever got notes (no step line,
 * e.g. the process died in between) has no `normBefore`/`normAfter`/`clipped`/`skipped`.
 *
 * Numbers are numbers again, `NaN`, `Infinity` and `-Infinity` included; `null` only comes from older logs,
 * which wrote every non-finite number as `null` (which one it was is not known).
 */
export interface StepRecord {
  /** The run this step belongs to: the line's `run`, or the file name without `.jsonl` when the line has none. */
  run: string;
  /** The pipeline's 0-based step index; records of one run are unique by it. */
  step: number;
  /** Global L2 norm of the incoming gradients (NaN or ±Infinity when so); absent when the step only has notes. */
  normBefore?: number | null;
  /** Global L2 norm of the gradients after the pipeline; absent when the step only has notes. */
  normAfter?: number | null;
  /** True when some transform clipped; absent when the step only has notes. */
  clipped?: boolean;
  /** True when a guard skipped the step; absent when the step only has notes. */
  skipped?: boolean;
  /** The clipping threshold in force; absent when no transform reports one. */
  threshold?: number | null;
  /** The step's loss, from its step line or a note (the later line wins); absent when never logged. */
  loss?: number | null;
  /** Names of the incoming tensors that held NaN or ±Infinity; absent when there were none. */
  nonFinite?: string[];
  /** Per-tensor L2 norms; only when the pipeline was made with `tensorNorms: true`. */
  tensorNorms?: Record<string, number | null>;
  /** The recorder's `extra` fields and any other note fields, as written. */
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
  'torn',
];

/** Turns a pipeline event into the object written as its log line. */
export function toStepLine(event: StepEvent, run: string, extra: Readonly<Record<string, JsonValue>>, tensorNorms: boolean): StepLine {
  const line: StepLine = {
    run,
    step: event.step,
    normBefore: encodeNumber(event.normBefore),
    normAfter: encodeNumber(event.normAfter),
    clipped: event.clipped,
    skipped: event.skipped,
  };
  if (event.threshold !== undefined) line.threshold = encodeNumber(event.threshold);
  if (event.loss !== undefined) line.loss = encodeNumber(event.loss);
  if (event.nonFinite.length > 0) line.nonFinite = [...event.nonFinite];
  if (tensorNorms && event.tensorNorms !== undefined) {
    const norms: Record<string, LoggedNumber> = {};
    for (const [name, norm] of Object.entries(event.tensorNorms)) norms[name] = encodeNumber(norm);
    line.tensorNorms = norms;
  }
  Object.assign(line, extra);
  // The step's own learning rate (a schedule's value) beats a constant `extra.lr` given to the recorder.
  if (event.lr !== undefined) line.lr = event.lr;
  return line;
}
