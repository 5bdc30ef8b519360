import { GradpipeError, describeValue } from '@gradpipe/core';
import { rejectUnknownKeys, requireInteger } from '@gradpipe/core/internal';
import type { AccumulatorJson, PipelineJson, ScheduleJson } from '@gradpipe/core';
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

const KEYS = ['format', 'version', 'fingerprint', 'optimizer', 'pipeline', 'updates', 'schedule', 'accumulator', 'pendingStatistics', 'rng'];

/** Checks a saved state's envelope (its parts are checked by their own loaders) and brings version 1 up to date. */
export function parseState(fn: string, state: unknown): Omit<OrtTrainerState, 'fingerprint'> & { fingerprint: string | undefined } {
  const s = state as Omit<Partial<OrtTrainerState>, 'version'> & { version?: unknown };
  if (typeof s !== 'object' || s === null || s.format !== 'gradpipe.ortTrainer' || (s.version !== 1 && s.version !== 2)) {
    throw new GradpipeError(fn, `state must be the output of OrtTrainer.toJSON(), got ${describeValue(state)}`);
  }
  rejectUnknownKeys(fn, s, KEYS);
  if (s.version === 2 && (typeof s.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(s.fingerprint))) {
    throw new GradpipeError(fn, `state.fingerprint must be the 64 hex digits of the model's fingerprint, got ${describeValue(s.fingerprint)}`);
  }
  const updates = s.version === 2 ? requireInteger(fn, 'state.updates', s.updates, 0) : 0;
  if (s.pendingStatistics !== undefined && (!Array.isArray(s.pendingStatistics) || s.pendingStatistics.some((p) => typeof p !== 'object' || p === null))) {
    throw new GradpipeError(fn, `state.pendingStatistics must be an array of objects, got ${describeValue(s.pendingStatistics)}`);
  }
  return { ...(s as OrtTrainerState), version: 2, updates, fingerprint: s.fingerprint };
}
