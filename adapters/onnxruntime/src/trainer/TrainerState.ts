import type { AccumulatorJson, PipelineJson, ScheduleJson } from '@gradpipe/core';
import { describeValue, GradpipeError } from '@gradpipe/core';
import { isPlainObject, rejectUnknownKeys, requireInteger } from '@gradpipe/core/internal';
import type { OptimizerJson } from '../optimizers/Optimizer.js';

/**
 * The saved state of a trainer: everything but the weights and BatchNorm's running statistics, which travel
 * in the exported model. Version 1 (optimizer, pipeline, generator) still loads.
 */
export interface OrtTrainerState {
  /** Marks the object as a saved trainer; `OrtTrainer.create` refuses any other `state`. */
  format: 'gradpipe.ortTrainer';
  /** Version of this format. */
  version: 2;
  /** The model's structure hash (see `modelFingerprint`): a state is never resumed on another model. */
  fingerprint: string;
  /** The optimizer's config and state (moments, step count, lr), as `Optimizer.toJSON` gives them. */
  optimizer: OptimizerJson;
  /** The gradient pipeline with every transform's state, as `GradientPipeline.toJSON` gives it. */
  pipeline: PipelineJson;
  /** Updates applied so far: the position of the learning-rate schedule. */
  updates: number;
  /** The learning-rate schedule, when the trainer has one. */
  schedule?: ScheduleJson;
  /** Gradient accumulation, partial sums included, when the trainer accumulates. */
  accumulator?: AccumulatorJson;
  /** Batch statistics of the micro-batches accumulated so far (BatchNorm in training form): base64 float32 by running-statistic initializer. */
  pendingStatistics?: Record<string, string>[];
  /** The state of the generator that draws Dropout masks, when the model has training-mode Dropout. */
  rng?: number[];
}

const KEYS = [
  'format',
  'version',
  'fingerprint',
  'optimizer',
  'pipeline',
  'updates',
  'schedule',
  'accumulator',
  'pendingStatistics',
  'rng',
];

/** A saved state whose fields have the right types (their contents are checked by their loaders and the model). */
export type ParsedState = Omit<OrtTrainerState, 'fingerprint' | 'version'> & { version: 1 | 2; fingerprint: string | undefined };

/**
 * Checks a saved state's fields — each present one of its type, the required ones present, no other — and
 * brings version 1 (no fingerprint, no update count) up to date. The parts' contents are checked by their own
 * loaders, and against the model, in `restoreState`.
 */
export function parseState(fn: string, state: unknown): ParsedState {
  if (!isPlainObject(state) || state.format !== 'gradpipe.ortTrainer') {
    throw new GradpipeError(fn, `state must be the output of OrtTrainer.toJSON(), got ${describeValue(state)}`);
  }
  rejectUnknownKeys(fn, state, KEYS, 'state key');
  if (state.version !== 1 && state.version !== 2)
    throw new GradpipeError(fn, `state.version must be 1 or 2 (the versions this gradpipe reads), got ${describeValue(state.version)}`);
  const v2 = state.version === 2;
  if ((v2 || state.fingerprint !== undefined) && (typeof state.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(state.fingerprint))) {
    throw new GradpipeError(
      fn,
      `state.fingerprint must be the 64 hex digits of the model's fingerprint, got ${describeValue(state.fingerprint)}`,
    );
  }
  const updates = v2 || state.updates !== undefined ? requireInteger(fn, 'state.updates', state.updates, 0) : 0;
  for (const part of ['optimizer', 'pipeline'] as const) {
    if (!isPlainObject(state[part]))
      throw new GradpipeError(fn, `state.${part} must be a saved ${part} (its toJSON()), got ${describeValue(state[part])}`);
  }
  for (const part of ['schedule', 'accumulator'] as const) {
    if (state[part] !== undefined && !isPlainObject(state[part]))
      throw new GradpipeError(fn, `state.${part} must be a saved ${part} (its toJSON()), got ${describeValue(state[part])}`);
  }
  if (state.schedule !== undefined) rejectUnknownKeys(fn, state.schedule as object, ['kind', 'config'], 'state.schedule key');
  const pending = state.pendingStatistics;
  if (pending !== undefined && (!Array.isArray(pending) || !Array.from(pending).every((p) => isPlainObject(p)))) {
    throw new GradpipeError(fn, `state.pendingStatistics must be an array of batch statistics (objects), got ${describeValue(pending)}`);
  }
  return { ...(state as unknown as OrtTrainerState), version: 2, updates, fingerprint: state.fingerprint as string | undefined };
}
