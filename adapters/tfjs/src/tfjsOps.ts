import { combineNorms, describeValue, type TensorOps, type UnitLayout } from '@gradpipe/core';
import * as tf from '@tensorflow/tfjs-core';
import { readBatched } from './batchedReads.js';
import { gpuClipFactor, gpuCombineNorms, gpuNorm, gpuScale, onGpu } from './gpuKernels.js';
import { FLOAT32_MAX, hasHostKernels, hostCombineNorms, hostNorm, hostScale } from './hostKernels.js';

/**
 * Smallest divisor used when a tensor is scaled by its max-abs before squaring. Below it the data is scaled up by
 * at most 2¹⁰⁰, which keeps the largest entries far from float32 underflow without risking an overflow of 1/d.
 */
const TINY = 2 ** -100;

/**
 * Preferred length of the rows a long tensor is summed in. Backends such as wasm add in float32 one element after
 * another, which loses 4e-4 of a 1M-element sum of squares (and stops growing at 2²⁴ ones); summing rows of about
 * a thousand first and then the row sums keeps the error near float32 rounding.
 */
const ROW = 1024;

const rowLengths = new Map<number, number>();

/**
 * A row length near {@link ROW} that divides `n`, so the tensor is reshaped for free instead of sliced (a slice
 * copies the data on wasm); {@link ROW} when `n` has no divisor in [128, 8192] (its tail is then sliced off).
 */
function rowLength(n: number): number {
  let found = rowLengths.get(n);
  if (found === undefined) {
    found = ROW;
    for (let d = 0; d <= 8192 - ROW; d++) {
      if (ROW - d >= 128 && n % (ROW - d) === 0) {
        found = ROW - d;
        break;
      }
      if (n % (ROW + d) === 0) {
        found = ROW + d;
        break;
      }
    }
    if (rowLengths.size > 10_000) rowLengths.clear();
    rowLengths.set(n, found);
  }
  return found;
}

const f32 = (t: tf.Tensor): tf.Scalar => tf.cast(t, 'float32') as tf.Scalar;

/** NaN when either operand is NaN, else `op(a, b)`: webgl's and wasm's minimum/maximum may drop a NaN. */
function nanPropagating(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) {
  return (a: tf.Scalar, b: tf.Scalar): tf.Scalar => tf.where(tf.logicalOr(tf.isNaN(a), tf.isNaN(b)), tf.add(a, b), op(a, b)) as tf.Scalar;
}
const maxOf = nanPropagating(tf.maximum);
const minOf = nanPropagating(tf.minimum);

/**
 * True where minimum/maximum alone are good enough, saving four ops per call (a pipeline makes a few calls per
 * tensor per step). cpu's are Math.min/max, which propagate NaN; so do webgl's and webgpu's shaders (tfjs checks
 * for NaN in both operands). wasm's keep a NaN first operand and drop a NaN second one; core passes the value that
 * may be NaN first (a norm, then a bound), and where it cannot (the running max of per-tensor norms) the result is
 * NaN anyway unless an infinite norm came first — then the global norm reads Infinity instead of NaN, non-finite
 * either way.
 */
const plainMinMax = (): boolean => ['cpu', 'wasm', 'webgl', 'webgpu'].includes(tf.getBackend());

/** The scalars as one float32 vector (a new tensor): what both reads transfer. */
function packScalars(values: readonly tf.Scalar[]): tf.Tensor1D {
  return tf.tidy(() => tf.stack(values.map((v) => (v.rank === 0 ? v : tf.reshape(v, [])))) as tf.Tensor1D);
}

/** max |x| of a flat tensor from two reductions (no temporary copy); NaN when x holds a NaN. */
function maxAbs(x: tf.Tensor): tf.Scalar {
  return tf.maximum(tf.max(x), tf.neg(tf.min(x))) as tf.Scalar;
}

/**
 * A long flat tensor cut into rows of about {@link ROW} (see there): the first `rows × row` entries (`head`, the
 * whole tensor when the rows divide it) and the rest (`tail`); undefined when the tensor is short enough to sum
 * in one go.
 */
function inRows(x: tf.Tensor1D): { head: tf.Tensor1D; rows: number; row: number; tail: tf.Tensor1D | undefined } | undefined {
  const n = x.size;
  if (n <= 2 * ROW) return undefined;
  const row = rowLength(n);
  const rows = Math.floor(n / row);
  const exact = rows * row === n;
  return { head: exact ? x : tf.slice(x, 0, rows * row), rows, row, tail: exact ? undefined : tf.slice(x, rows * row) };
}

/** Σ of a flat tensor, in rows of about {@link ROW}. */
function rowSum(x: tf.Tensor1D): tf.Scalar {
  const split = inRows(x);
  if (!split) return tf.sum(x) as tf.Scalar;
  const { head, rows, row, tail } = split;
  const sum: tf.Scalar = tf.sum(tf.sum(tf.reshape(head, [rows, row]), 1));
  return tail ? tf.add(sum, tf.sum(tail)) : sum;
}

/** Σ x² of a flat tensor in one pass: a batched dot product per row of about {@link ROW}, then the row sums. */
function rowSumOfSquares(x: tf.Tensor1D): tf.Scalar {
  const split = inRows(x);
  if (!split) return tf.dot(x, x) as tf.Scalar;
  const { head, rows, row, tail } = split;
  const sum: tf.Scalar = tf.sum(tf.matMul(tf.reshape(head, [rows, 1, row]), tf.reshape(head, [rows, row, 1])));
  return tail ? tf.add(sum, tf.dot(tail, tail)) : sum;
}

/**
 * The p-norm of `t` without overflow or underflow: with d = max|t|, ‖t‖ = d·‖t/d‖ and every |t/d| ≤ 1.
 * Passes over the data for L2: max, min, the division, and one batched dot product.
 */
function pNorm(t: tf.Tensor, p: number): tf.Scalar {
  if (t.size === 0) return tf.scalar(0);
  const x = tf.reshape(t, [t.size]) as tf.Tensor1D;
  const m = maxAbs(x);
  if (p === Infinity) return m;
  const d = tf.maximum(m, TINY);
  const y = tf.div(x, d) as tf.Tensor1D;
  let scaled: tf.Scalar;
  if (p === 2) scaled = tf.sqrt(rowSumOfSquares(y));
  else if (p === 1) scaled = rowSum(tf.abs(y));
  else scaled = tf.pow(rowSum(tf.pow(tf.abs(y), p) as tf.Tensor1D), 1 / p);
  // An infinite entry makes y hold Inf/Inf = NaN; report +Infinity as the typed-array backend does (NaN stays NaN).
  return tf.where(tf.isFinite(m), saturate(tf.mul(scaled, d)), m) as tf.Scalar;
}

/**
 * A norm of finite entries stays finite: above the largest float32 (only entries near 1e38 get there) it is
 * reported as that largest value, so that "non-finite" keeps meaning "has a NaN or ±Infinity entry". Scalars are
 * float32 on tfjs, so a clip of such a tensor is short by the factor norm / 3.4e38 ≤ √n.
 */
function saturate(norm: tf.Tensor): tf.Tensor {
  return tf.minimum(norm, FLOAT32_MAX);
}

/** The unit layout as a 2-D view: units along axis 0 (`'first'`) or axis 1 (`'last'`). */
function unitView(t: tf.Tensor, layout: UnitLayout): { x: tf.Tensor2D; axis: 0 | 1 } {
  const per = t.size / layout.units;
  return layout.axis === 'first'
    ? { x: tf.reshape(t, [layout.units, per]) as tf.Tensor2D, axis: 1 }
    : { x: tf.reshape(t, [per, layout.units]) as tf.Tensor2D, axis: 0 };
}

/** Unit factors shaped to broadcast against {@link unitView}. */
function unitFactors(factors: tf.Tensor, layout: UnitLayout): tf.Tensor2D {
  return tf.reshape(factors, layout.axis === 'first' ? [layout.units, 1] : [1, layout.units]) as tf.Tensor2D;
}

/**
 * `1 − 2⁻²⁰`, the factor every clip factor is multiplied by so that the stored output's norm stays ≤ the
 * threshold in float32. The clipped norm carries three float32 roundings — `threshold / norm`, `× boundSafety`,
 * and each stored `g × factor` — together < 3·2⁻²⁴ relatively, plus the relative error of the measured norm:
 * on cpu and wasm (the kernels of hostKernels.ts), each tensor's norm is exact to float64 rounding and stored as
 * float32 (one rounding), and the global norm is combined from those in float64 and stored as float32 (one more);
 * with the portable ops, the entries are divided by their max-abs (one rounding each), squared and summed by a
 * batched dot product in rows of about 1,024 (2e-9 relative error measured on 1M uniform values with wasm's float32
 * sums, against 4e-4 for one long float32 sum), and global norms combine the per-tensor norms with a few float32
 * scalar operations. 2⁻²⁰ = 16·2⁻²⁴ leaves room for ~13 roundings' worth of norm error, eight times the margin of
 * core's float64 typed arrays (2⁻²³). The property test in test/bound.test.ts checks the bound on both backends.
 */
const BOUND_SAFETY = 1 - 2 ** -20;

/**
 * The ops made of standard tfjs ops only, for every backend: what {@link tfjsOps} uses where it has no one-pass
 * kernels. Internal (not re-exported by the package); the tests run the contract on it too.
 */
export const portableTfjsOps: TensorOps<tf.Tensor, tf.Scalar> = {
  name: 'tfjs',
  eager: false,
  unitAxis: 'last',
  boundSafety: BOUND_SAFETY,

  invalidReason(t) {
    if (!(t instanceof tf.Tensor)) return `must be a tf.Tensor, got ${describeValue(t)}`;
    if (t.isDisposed) return 'is a disposed tf.Tensor';
    if (t.dtype !== 'float32') return `must be a float32 tf.Tensor, got dtype ${t.dtype}`;
    return undefined;
  },
  size: (t) => t.size,

  norm: pNorm,
  unitNorms(t, layout) {
    const { x, axis } = unitView(t, layout);
    const m = tf.maximum(tf.max(x, axis, true), tf.neg(tf.min(x, axis, true)));
    const d = tf.maximum(m, TINY);
    const norms = saturate(tf.mul(tf.sqrt(tf.sum(tf.square(tf.div(x, d)), axis, true)), d));
    return tf.reshape(tf.where(tf.isFinite(m), norms, m), [layout.units]);
  },

  scale: (t, factor) => tf.mul(t, factor),
  clamp(t, min, max) {
    // The contract keeps NaN as NaN; wasm's clipByValue turns it into a bound. (Masking costs less than a
    // maximum and a minimum, which are 3× slower than clipByValue on wasm.)
    const clamped = tf.where(tf.isNaN(t), t, tf.clipByValue(t, min, max));
    // Two reductions instead of an element-wise comparison. With a NaN entry both are NaN and this reports 0.
    const changed = tf.logicalOr(tf.greater(tf.max(t), max), tf.less(tf.min(t), min));
    return [clamped, f32(changed)];
  },
  zeroNonFinite: (t) => tf.where(tf.isFinite(t), t, tf.zerosLike(t)),
  clipUnits(t, layout, norms, limits) {
    const clip = tf.logicalAnd(tf.isFinite(norms), tf.greater(norms, limits));
    const factors = tf.where(clip, tf.mul(tf.div(limits, norms), BOUND_SAFETY), tf.onesLike(norms));
    const { x } = unitView(t, layout);
    return tf.reshape(tf.mul(x, unitFactors(factors, layout)), t.shape);
  },
  floorTimes: (v, floor, factor) => tf.mul(tf.maximum(v, floor), factor),
  anyGreater: (norms, limits) => f32(tf.any(tf.logicalAnd(tf.isFinite(norms), tf.greater(norms, limits)))),

  scalar: (value) => tf.scalar(value, 'float32'),
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  min: minOf,
  max: maxOf,
  pow: (a, e) => tf.pow(a, e),
  greater: (a, b) => f32(tf.greater(a, b)),
  isFinite: (a) => f32(tf.isFinite(a)),
  select: (cond, a, b) => tf.where(tf.cast(cond, 'bool'), a, b) as tf.Scalar,

  read(values) {
    if (values.length === 0) return [];
    const packed = packScalars(values);
    const numbers = Array.from(packed.dataSync());
    packed.dispose();
    return numbers;
  },
  async readAsync(values) {
    if (values.length === 0) return [];
    // A copy of the scalars, kept out of the caller's tidy until the device has answered; read with the other
    // steps of the same task in one transfer.
    return readBatched(tf.keep(packScalars(values)));
  },
};

/** core's clip factor in standard ops (the same float32 operations as its generic form), for cpu, wasm and others. */
function portableClipFactor(norm: tf.Scalar, threshold: tf.Scalar, slack: number): { factor: tf.Scalar; clipped: tf.Scalar } {
  const clipped = tf.logicalAnd(tf.greater(norm, threshold), tf.isFinite(norm));
  const target = tf.maximum(tf.sub(threshold, tf.scalar(slack)), tf.scalar(0));
  const factor = tf.where(clipped, tf.mul(tf.div(target, norm), tf.scalar(BOUND_SAFETY)), tf.scalar(1)) as tf.Scalar;
  return { factor, clipped: f32(clipped) };
}

/**
 * The TensorFlow.js backend of `@gradpipe/core`'s {@link TensorOps}: tensors are `tf.Tensor`s, scalars are
 * `tf.Scalar`s that stay on the device until the pipeline reads them all back with one `dataSync` per step.
 * Every operation returns new tensors; run a step inside `tf.tidy` (as {@link transformGradients} and
 * {@link withGradientPipeline} do) so that the intermediates are freed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * import { tfjsOps } from '@gradpipe/tfjs';
 *
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * const clipped = tf.tidy(() => {
 *   const { grads } = pipe.stepWith(tfjsOps, { w: tf.tensor1d([3, 4]) });
 *   return grads.w!;           // [0.6, 0.8]; every other tensor of the step is freed
 * });
 * ```
 */
export const tfjsOps: TensorOps<tf.Tensor, tf.Scalar> = {
  ...portableTfjsOps,
  // One-pass kernels over the backend's memory (hostKernels.ts) where they pay: the norm on cpu and wasm, the
  // scale on cpu only (wasm's own SIMD multiply is 3× faster than a JS loop over its heap). On webgl and webgpu,
  // shaders of gpuKernels.ts: a tensor's L2 norm in two kernels, the global norm of a stack in one.
  norm: (t, p) => (hasHostKernels() ? hostNorm(t, p) : p === 2 && onGpu() ? gpuNorm(t) : pNorm(t, p)),
  // One kernel instead of four or five scalar ops per tensor (on cpu and wasm, the sum is float64).
  combineNorms: (norms, p) =>
    hasHostKernels() ? hostCombineNorms(norms, p) : p === 2 && onGpu() ? gpuCombineNorms(norms) : combineNorms(portableTfjsOps, norms, p),
  // On the GPU the factor is computed in the shader that applies it, split where it would underflow (gpuKernels.ts).
  clipFactor: (norm, threshold, slack) =>
    onGpu() ? gpuClipFactor(norm, threshold, slack, BOUND_SAFETY) : portableClipFactor(norm, threshold, slack),
  scale: (t, factor) => (tf.getBackend() === 'cpu' ? hostScale(t, factor) : (gpuScale(t, factor) ?? tf.mul(t, factor))),
  // normAfter = normBefore × factor: the same split product when the factor is a GPU clip factor.
  mul: (a, b) => (gpuScale(a, b) ?? gpuScale(b, a) ?? tf.mul(a, b)) as tf.Scalar,
  min: (a, b) => (plainMinMax() ? (tf.minimum(a, b) as tf.Scalar) : minOf(a, b)),
  max: (a, b) => (plainMinMax() ? (tf.maximum(a, b) as tf.Scalar) : maxOf(a, b)),
};
