/**
 * How the units of a weight tensor are laid out, for unit-wise transforms such as {@link agc}.
 * A "unit" is one output neuron or channel: the slice of the weight that feeds it.
 *
 * - `units`: how many units the tensor has.
 * - `axis: 'first'`: unit `u` is the contiguous block `[u*k, (u+1)*k)` (PyTorch / ONNX layout, `[out, in, ...]`).
 * - `axis: 'last'`: unit `u` is every element whose index `≡ u (mod units)` (TensorFlow layout, `[..., in, out]`).
 */
export interface UnitLayout {
  /** How many units the tensor has. */
  readonly units: number;
  /** Whether a unit is a contiguous block (`'first'`) or a strided column (`'last'`). */
  readonly axis: 'first' | 'last';
}

/**
 * The small set of numeric operations every transform is written against.
 *
 * `T` is the backend's tensor (a `Float32Array` in core, a `tf.Tensor` in `@gradpipe/tfjs`) and `S` its scalar
 * (`number` in core, a `tf.Scalar` in tfjs). Scalars stay on the backend until the pipeline reads them all back
 * at once with {@link TensorOps.read}, so a device backend pays one host read per step, not one per tensor.
 *
 * Contract that transforms rely on, and that `@gradpipe/core/testing`'s contract cases check on every backend:
 * - `norm` never overflows or underflows for finite float32 input, and is non-finite iff the tensor has a
 *   non-finite entry.
 * - Operations that change values may work in place and return their input; the pipeline never reuses a
 *   tensor it passed to such an operation.
 * - `scale(t, factor)` leaves `t` bit-identical when `factor` is exactly 1.
 * - `boundSafety` is a factor just below 1 that, applied to a clip factor, makes the norm of the stored output
 *   provably ≤ the threshold despite rounding to the tensor's precision.
 *
 * @example A look at the typed-array backend
 * ```ts
 * import { typedArrayOps } from '@gradpipe/core';
 * const ops = typedArrayOps;
 * ops.norm(new Float32Array([3, 4]), 2); // 5
 * ```
 */
export interface TensorOps<T, S> {
  /** Short name for messages, e.g. `'typed-array'` or `'tfjs'`. */
  readonly name: string;
  /** True when scalars are plain host numbers, so the pipeline can stop early on a skipped step. */
  readonly eager: boolean;
  /** Where this backend's weight tensors keep their output units (PyTorch/ONNX `'first'`, TensorFlow `'last'`). */
  readonly unitAxis: 'first' | 'last';
  /** Factor slightly below 1 applied to clip factors so rounding can never lift a norm above its bound. */
  readonly boundSafety: number;

  /** Why `t` is not a tensor of this backend (a message fragment), or `undefined` when it is. */
  invalidReason(t: unknown): string | undefined;
  /** Number of elements. */
  size(t: T): number;

  // --- reductions -----------------------------------------------------------------------------------
  /** The `p`-norm of `t` (`p >= 1` or `Infinity`), without overflow or underflow for finite input. */
  norm(t: T, p: number): S;
  /**
   * Optional: the global p-norm of many tensors from their p-norms, in one operation. Without it, backends with
   * backend scalars combine the norms with a few scalar operations per tensor (see `combineNorms`), which
   * costs where every operation has a fixed price (≈ 12 µs on tfjs-wasm). Same promises as `combineNorms`: no
   * overflow, non-finite iff some norm is. Eager backends never need it: core combines host numbers exactly.
   */
  combineNorms?(norms: readonly S[], p: number): S;
  /** L2 norm of every unit of `t` (see {@link UnitLayout}), as a vector tensor of length `layout.units`. */
  unitNorms(t: T, layout: UnitLayout): T;

  // --- element-wise changes (may be in place) ---------------------------------------------------------
  /** `t * factor`. Must leave `t` untouched when `factor` is exactly 1. */
  scale(t: T, factor: S): T;
  /**
   * Optional fused form of `scale` that also returns the exact L2 norm of the stored result, measured in the
   * same pass. Backends where a pass over memory is the cost (typed arrays) provide it so that reporting the
   * norm after clipping is free.
   */
  scaleWithNorm?(t: T, factor: S): [T, S];
  /**
   * Every element clamped to `[min, max]`, and 1 when some element changed (else 0).
   * NaN entries stay NaN.
   */
  clamp(t: T, min: number, max: number): [T, S];
  /** Non-finite entries replaced by 0. `isFinite` is the tensor's finiteness flag, so a backend may skip the pass. */
  zeroNonFinite(t: T, isFinite: S): T;
  /**
   * Scales unit `u` of `t` by `limits[u] / norms[u] * boundSafety` where `norms[u] > limits[u]`,
   * leaving other units (and units with a non-finite norm) untouched. A backend may lower the target a little,
   * as `clipFactor` does (the typed-array backend does), so that rounding float32 subnormals up cannot lift a
   * unit above its limit.
   */
  clipUnits(t: T, layout: UnitLayout, norms: T, limits: T): T;
  /** `max(v, floor) * factor` element-wise, for a small vector such as unit norms. */
  floorTimes(v: T, floor: number, factor: number): T;
  /** 1 when some `norms[u] > limits[u]` (finite), else 0. */
  anyGreater(norms: T, limits: T): S;

  // --- scalar arithmetic ------------------------------------------------------------------------------
  /** A backend scalar holding the host number `value`. */
  scalar(value: number): S;
  /** `a + b`. */
  add(a: S, b: S): S;
  /** `a - b`. */
  sub(a: S, b: S): S;
  /** `a * b`. */
  mul(a: S, b: S): S;
  /** `a / b`. */
  div(a: S, b: S): S;
  /** The smaller of `a` and `b` (NaN if either is). */
  min(a: S, b: S): S;
  /** The larger of `a` and `b` (NaN if either is). */
  max(a: S, b: S): S;
  /** `a ** e` for a host exponent. */
  pow(a: S, e: number): S;
  /** 1 where `a > b`, else 0. */
  greater(a: S, b: S): S;
  /** 1 where `a` is finite, else 0. */
  isFinite(a: S): S;
  /** `cond` (1 or 0) ? `a` : `b`. */
  select(cond: S, a: S, b: S): S;

  /**
   * Optional: the clip factor of {@link clipFactor} in the backend's own way — `max(threshold − slack, 0) / norm ·
   * boundSafety` when `norm` is finite and above `threshold`, else exactly 1 — and `clipped` (1 or 0). Backends
   * whose float32 arithmetic flushes tiny values to zero provide it so that a factor below 2⁻¹²⁶ (a norm above
   * 8.5e37 × the threshold) still scales instead of zeroing the gradients; `scale` and `mul` then accept the factor.
   */
  clipFactor?(
    norm: S,
    threshold: S,
    slack: number,
  ): {
    /** The factor to scale by: below 1 when clipping, exactly 1 otherwise. */
    factor: S;
    /** 1 when the factor is below 1, else 0. */
    clipped: S;
  };

  /** Reads scalars back to the host, all at once. This is the only synchronisation point of a step. */
  read(values: readonly S[]): number[];
  /**
   * Optional: {@link TensorOps.read} without waiting — the values are taken now (later changes to the scalars do
   * not matter) and the promise gives them when the device has them. Backends whose synchronous read stalls the
   * device (webgl) or does not exist (webgpu) provide it, for {@link GradientPipeline.stepWithDeferred}.
   */
  readAsync?(values: readonly S[]): Promise<number[]>;
}
