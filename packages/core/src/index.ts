/**
 * Gradient clipping for JavaScript machine learning: a {@link GradientPipeline} of transforms (clip by value, by
 * norm, by global norm, NaN guard, AutoClip, ZClip, AGC) over any backend's tensors, with events and save/resume.
 *
 * @example
 * ```ts
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 * const pipe = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]);
 * const { grads, skipped, stats } = pipe.step({ w: new Float32Array([3, 4]) });
 * ```
 * @module @gradpipe/core
 */

export type { AccumulatorJson, AccumulatorOptions } from './accumulation/GradientAccumulator.js';
// Gradient accumulation: k micro-batches, one clipped update
export { GradientAccumulator } from './accumulation/GradientAccumulator.js';
export type { TensorOps, UnitLayout } from './backends/TensorOps.js';
export type { FloatArray } from './backends/typedArray/typedArrayOps.js';
export { typedArrayOps } from './backends/typedArray/typedArrayOps.js';
export type { WasmMemoryLike } from './backends/wasmSimd/wasmSimdKernels.js';
export { wasmSimdOps } from './backends/wasmSimd/wasmSimdOps.js';
// Errors
export { describeValue, GradpipeError } from './errors/GradpipeError.js';
export { GuardedObservable } from './events/GuardedObservable.js';
// Events
export { everyNthStep, normAbove, onlyClipped, onlySkipped } from './events/operators.js';
export { combineNorms } from './norms/combineNorms.js';
export { normOf } from './norms/normOf.js';
export type { NormType } from './norms/normType.js';
// The pipeline
export { GradientPipeline } from './pipeline/GradientPipeline.js';
// Writing transforms and backends
export type {
  AnyGradientTransform,
  AsyncGradientTransform,
  Gradients,
  GradientTransform,
  JsonObject,
  JsonValue,
  StepOutcome,
  TransformContext,
  TransformDecisions,
  TransformUpdate,
} from './pipeline/GradientTransform.js';
export type { PipelineJson } from './pipeline/pipelineJson.js';
export type { DeferredStepResult, PipelineOptions, StepOptions, StepResult } from './pipeline/StepOptions.js';
export type { StepEvent, StepStats, TransformStats } from './pipeline/StepStats.js';
export type { TransformFactory } from './pipeline/transformRegistry.js';
export { chainSchedules } from './schedules/chainSchedules.js';
export { constant } from './schedules/constant.js';
export type { CosineDecayOptions } from './schedules/cosineDecay.js';
export { cosineDecay } from './schedules/cosineDecay.js';
export type { ExponentialDecayOptions } from './schedules/exponentialDecay.js';
export { exponentialDecay } from './schedules/exponentialDecay.js';
export type { LinearWarmupOptions } from './schedules/linearWarmup.js';
export { linearWarmup } from './schedules/linearWarmup.js';
export type { OneCycleOptions } from './schedules/oneCycle.js';
export { oneCycle } from './schedules/oneCycle.js';
export type { PolynomialDecayOptions } from './schedules/polynomialDecay.js';
export { polynomialDecay } from './schedules/polynomialDecay.js';
// Learning-rate schedules: plain functions of the step
export type { Schedule, ScheduleJson } from './schedules/Schedule.js';
export { requireSchedule } from './schedules/Schedule.js';
export { scheduleFromJSON } from './schedules/scheduleFromJSON.js';
export type { StepDecayOptions } from './schedules/stepDecay.js';
export { stepDecay } from './schedules/stepDecay.js';
export { inProcessAllReduce } from './sharding/inProcessAllReduce.js';
// Sharded clipping: a global norm across workers
export type { ReduceOp, ShardReduce } from './sharding/ShardReduce.js';
export type {
  AdaptiveClipOptions,
  PercentileClipOptions,
  PercentileClipState,
  ZScoreClipOptions,
  ZScoreClipState,
} from './transforms/adaptiveClip.js';
export { adaptiveClip } from './transforms/adaptiveClip.js';
export type { AgcOptions } from './transforms/agc.js';
export { agc } from './transforms/agc.js';
export type { ClipByGlobalNormOptions, ShardedClipByGlobalNormOptions } from './transforms/clipByGlobalNorm.js';
export { clipByGlobalNorm } from './transforms/clipByGlobalNorm.js';
export type { ClipByNormOptions } from './transforms/clipByNorm.js';
export { clipByNorm } from './transforms/clipByNorm.js';
export type { ClipByValueOptions } from './transforms/clipByValue.js';
// Transforms
export { clipByValue } from './transforms/clipByValue.js';
export type { NanGuardOptions, NanGuardState, NanPolicy } from './transforms/nanGuard.js';
export { nanGuard } from './transforms/nanGuard.js';
export type { ClipFactorOptions } from './transforms/support/clipFactor.js';
export { clipFactor } from './transforms/support/clipFactor.js';
export { scaleAll } from './transforms/support/scaleAll.js';
export { unitLayout } from './transforms/support/unitLayout.js';
