/**
 * What gradpipe's own packages share and applications should not need: the option checks every public function
 * runs (so the adapters refuse bad input exactly as core does) and the typed-array kernels the benchmarks time.
 * Not covered by semver: it changes with the packages that use it.
 *
 * @example
 * ```ts
 * import { rejectUnknownKeys, requireOptionsObject, requirePositiveFinite } from '@gradpipe/core/internal';
 *
 * function myOptimizer(options: { learningRate: number }) {
 *   requireOptionsObject('myOptimizer', options);
 *   rejectUnknownKeys('myOptimizer', options, ['learningRate']);
 *   return requirePositiveFinite('myOptimizer', 'learningRate', options.learningRate);
 * }
 * ```
 * @module @gradpipe/core/internal
 */

export {
  blockSumOfSquares,
  clampInPlace,
  float32Factor,
  scaleInPlace,
  scaleInPlaceSumOfSquares,
  sumOfSquares,
  trustedBlockSum,
} from './backends/typedArray/kernels.js';
export {
  normSquared,
  stagedBlockSumOfSquares,
  stagedClampInPlace,
  stagedScaleInPlace,
  stagedScaleInPlaceSumOfSquares,
  stagedSumOfSquares,
} from './backends/wasmSimd/stagedKernels.js';
export {
  closest,
  isPlainObject,
  rejectNullOptions,
  rejectUnknownKeys,
  requireBoolean,
  requireInRange,
  requireInteger,
  requireNonNegativeFinite,
  requireOneOf,
  requireOptionsObject,
  requirePositiveFinite,
} from './errors/validation.js';
