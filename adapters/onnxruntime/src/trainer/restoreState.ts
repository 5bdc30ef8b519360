import type { Schedule, TransformFactory } from '@gradpipe/core';
import { GradientAccumulator, GradientPipeline, GradpipeError, scheduleFromJSON } from '@gradpipe/core';
import type { Optimizer } from '../optimizers/Optimizer.js';
import { optimizerFromJSON } from '../optimizers/optimizerFromJSON.js';
import { decodeFloats } from '../support/base64.js';
import type { TrainingModel } from '../training/buildTrainingModel.js';
import { DropoutMasks } from './DropoutMasks.js';
import { PendingStatistics } from './RunningStatistics.js';
import type { ParsedState } from './TrainerState.js';

/**
 * Runs the loader of one part of a saved state (the optimizer's, core's pipeline, schedule or accumulator),
 * its refusal named after the part and the public function called; a loader that crashes on a corrupt part
 * (a TypeError) refuses it too, with a GradpipeError.
 */
export function restorePart<T>(fn: string, part: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof GradpipeError) throw new GradpipeError(fn, `${part} is not valid: ${e.message}`);
    throw new GradpipeError(fn, `${part} is corrupt (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)})`);
  }
}

/** The parts of a saved state that stand on their own, rebuilt by their loaders. */
export function restoreParts(fn: string, state: ParsedState, transforms: Record<string, TransformFactory> | undefined) {
  return {
    optimizer: restorePart(fn, 'state.optimizer', () => optimizerFromJSON(state.optimizer)),
    pipeline: restorePart(fn, 'state.pipeline', () => GradientPipeline.fromJSON(state.pipeline, transforms ? { transforms } : {})),
    schedule:
      state.schedule === undefined ? undefined : restorePart<Schedule>(fn, 'state.schedule', () => scheduleFromJSON(state.schedule!)),
    accumulator:
      state.accumulator === undefined
        ? undefined
        : restorePart(fn, 'state.accumulator', () => GradientAccumulator.fromJSON(state.accumulator!)),
  };
}

/**
 * Checks a saved state against the model it is resumed on — buffers of the trainable parameters and of their
 * lengths, the accumulated sums, the pending batch statistics, the Dropout generator — and returns the trainer's
 * generator and pending statistics restored. Everything is checked before a session opens or a weight changes.
 */
export function restoreAgainstModel(
  fn: string,
  state: ParsedState,
  parts: { optimizer: Optimizer; accumulator: GradientAccumulator | undefined },
  training: TrainingModel,
  statisticLengths: ReadonlyMap<string, number>,
  seed: number,
): { masks: DropoutMasks; pendingStats: PendingStatistics } {
  const params = training.initialParameters;
  const { signature } = training;
  restorePart(fn, 'state.optimizer', () => parts.optimizer.bind?.(params));
  checkMomentCoverage(fn, state, Object.keys(params));
  const pending = parts.accumulator?.pending ?? 0;
  if (pending > 0) checkSums(fn, state.accumulator!.sums, params, pending);

  const pendingStats = new PendingStatistics(signature.runningStatistics);
  if (state.pendingStatistics !== undefined || (pending > 0 && signature.runningStatistics.length > 0)) {
    if (signature.runningStatistics.length === 0)
      throw new GradpipeError(fn, 'state.pendingStatistics is for training-mode BatchNormalization, which this model does not have');
    if (state.pendingStatistics === undefined)
      throw new GradpipeError(
        fn,
        `state.pendingStatistics is missing: ${pending} micro-batches are accumulated, and their batch statistics must be applied with them`,
      );
    pendingStats.restore(fn, state.pendingStatistics, pending, statisticLengths);
  }

  const masks = new DropoutMasks(signature.dropout, seed);
  if (signature.dropout.length === 0 && state.rng !== undefined)
    throw new GradpipeError(fn, 'state.rng is the generator of training-mode Dropout masks, which this model does not have');
  if (signature.dropout.length > 0) {
    if (state.rng === undefined)
      throw new GradpipeError(
        fn,
        'state.rng is missing: the model has training-mode Dropout, and its masks would start over from the seed',
      );
    masks.restore(fn, state.rng);
  }
  return { masks, pendingStats };
}

/**
 * The trainer updates every trainable parameter at every update, so a gradpipe optimizer saved after an update
 * has a buffer for each of them (SGD: those with momentum): a buffer that went missing would silently start
 * over — Adam's moments from zero under the saved step's bias correction, SGD's momentum from the next gradient.
 * (The saved optimizer passed its own loader before this: its fields have their types.)
 */
function checkMomentCoverage(fn: string, state: ParsedState, names: readonly string[]): void {
  const saved = state.optimizer as unknown as SavedOptimizer;
  let needed: string[] = [];
  let buffers: Record<string, unknown> = {};
  if ((saved.kind === 'adam' || saved.kind === 'adamw') && (saved.state.step as number) > 0) {
    needed = [...names];
    buffers = saved.state.m as Record<string, unknown>;
  } else if (saved.kind === 'sgd' && state.updates > 0) {
    const groups = saved.config.groups as { names: string[]; options: { momentum?: number } }[];
    const momentum = (name: string) => groups.find((g) => g.names.includes(name))?.options.momentum ?? (saved.config.momentum as number);
    needed = names.filter((n) => momentum(n) !== 0);
    buffers = saved.state.momentumBuffers as Record<string, unknown>;
  }
  const missing = needed.find((n) => !Object.hasOwn(buffers, n));
  if (missing !== undefined)
    throw new GradpipeError(
      fn,
      `state.optimizer has no ${saved.kind === 'sgd' ? 'momentum buffer' : 'moments'} for ${JSON.stringify(missing)}, though it has made updates`,
    );
}

interface SavedOptimizer {
  kind: string;
  config: Record<string, unknown>;
  state: Record<string, unknown>;
}

/**
 * The accumulated sums, mid-accumulation: one per trainable parameter, of its length, each value a sum of
 * `pending` finite float32 gradients — so finite and at most pending × the largest float32 in magnitude.
 */
function checkSums(fn: string, sums: Record<string, string>, params: Record<string, Float32Array>, pending: number): void {
  const maxAbs = pending * 3.4028234663852886e38;
  for (const name of Object.keys(sums)) {
    if (!params[name])
      throw new GradpipeError(fn, `state.accumulator has a sum for ${JSON.stringify(name)}, which is not a trainable parameter`);
    decodeFloats(fn, `state.accumulator.sums[${JSON.stringify(name)}]`, sums[name], { bytes: 8, length: params[name].length, maxAbs });
  }
  const missing = Object.keys(params).find((n) => !Object.hasOwn(sums, n));
  if (missing !== undefined) throw new GradpipeError(fn, `state.accumulator has no sum for the parameter ${JSON.stringify(missing)}`);
}
