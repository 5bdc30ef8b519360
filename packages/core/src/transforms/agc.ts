import type { UnitLayout } from '../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { rejectNullOptions, rejectUnknownKeys, requireOptionsObject, requirePositiveFinite } from '../errors/validation.js';
import type { Gradients, GradientTransform, JsonObject } from '../pipeline/GradientTransform.js';
import { anyOf } from './support/anyOf.js';
import { requireNullState } from './support/stateChecks.js';
import { unitLayout } from './support/unitLayout.js';

/** Options of {@link agc}. */
export interface AgcOptions {
  /** λ: a unit's gradient norm may be at most λ times its weight norm. Default 0.01. */
  clipping?: number;
  /** Floor of the weight norm, so units with zero weights can still move. Default 1e-3. */
  eps?: number;
  /**
   * Where the output units of a weight tensor are: `'first'` (PyTorch/ONNX `[out, in, …]`) or `'last'`
   * (TensorFlow `[…, in, out]`). Default: the backend's convention (`'first'` for typed arrays, `'last'` in tfjs).
   */
  unitAxis?: 'first' | 'last';
  /** Names of tensors left unclipped — the paper excludes the final classifier layer. */
  exclude?: string[];
  /**
   * The axes each unit's norm is taken over (optax's `axis`), e.g. `[0, 1, 2]` for a `[kh, kw, in, out]` conv
   * kernel; negative axes count from the end. The remaining axes index the units, and must be a leading or a
   * trailing block of the shape. Applies to tensors with at least two dimensions (a bias stays one unit), and
   * needs their `shapes`. Replaces `unitAxis`.
   */
  axes?: number[];
}

/**
 * Unit-wise adaptive gradient clipping (AGC, Brock et al. 2021, "High-Performance Large-Scale Image Recognition
 * Without Normalization"): for every output unit i of every weight W with gradient G,
 * if ‖Gᵢ‖ > λ·max(‖Wᵢ‖, ε) then Gᵢ ← Gᵢ · λ·max(‖Wᵢ‖, ε) / ‖Gᵢ‖.
 *
 * Needs the parameters: call `step(grads, { params, shapes })`. A tensor without a shape, or with fewer than two
 * dimensions (a bias), is one unit, as in the paper's reference code.
 *
 * @example
 * ```ts
 * import { GradientPipeline, agc } from '@gradpipe/core';
 * const pipe = new GradientPipeline([agc({ clipping: 0.01, exclude: ['head.weight', 'head.bias'] })]);
 * const w = new Float32Array([1, 0, 0, 1]);
 * const { grads } = pipe.step({ w: new Float32Array([1, 0, 0, 0.001]) }, { params: { w }, shapes: { w: [2, 2] } });
 * // unit 0 clipped to norm 0.01, unit 1 (norm 0.001 ≤ 0.01) unchanged
 * ```
 */
export function agc(options: AgcOptions = {}): GradientTransform<null> {
  const fn = 'agc';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['clipping', 'eps', 'unitAxis', 'exclude', 'axes']);
  rejectNullOptions(fn, options);
  const clipping = requirePositiveFinite(fn, 'clipping', options.clipping ?? 0.01);
  const eps = requirePositiveFinite(fn, 'eps', options.eps ?? 1e-3);
  const unitAxis = options.unitAxis;
  if (unitAxis !== undefined && unitAxis !== 'first' && unitAxis !== 'last') {
    throw new GradpipeError(fn, `unitAxis must be 'first' or 'last', got ${describeValue(unitAxis)}`);
  }
  const exclude = options.exclude ?? [];
  if (!Array.isArray(exclude) || exclude.some((n) => typeof n !== 'string')) {
    throw new GradpipeError(fn, `exclude must be an array of tensor names, got ${describeValue(exclude)}`);
  }
  const axes = options.axes;
  if (axes !== undefined) {
    if (!Array.isArray(axes) || axes.length === 0 || axes.some((a) => !Number.isSafeInteger(a)) || new Set(axes).size !== axes.length) {
      throw new GradpipeError(fn, `axes must be a non-empty array of distinct integer axes, got ${describeValue(axes)}`);
    }
    if (unitAxis !== undefined) throw new GradpipeError(fn, 'give axes or unitAxis, not both: axes already says where the units are');
  }
  const config: JsonObject = { clipping, eps, exclude: [...exclude] };
  if (unitAxis !== undefined) config.unitAxis = unitAxis;
  if (axes !== undefined) config.axes = [...axes];
  /** The unit layout of one tensor: from `axes` when given, else from the unit axis. */
  const layoutOf = (name: string, shape: readonly number[] | undefined, backendAxis: 'first' | 'last'): UnitLayout =>
    axes === undefined ? unitLayout(shape, unitAxis ?? backendAxis) : layoutFromAxes(fn, name, shape, axes);
  return {
    kind: fn,
    config,
    needsParams: true,
    init: () => null,
    restoreState: requireNullState,
    // Before any transform runs: a shape the axes cannot describe is refused while the gradients are untouched.
    validate(grads, { ops, shapes }) {
      for (const name of Object.keys(grads)) if (!exclude.includes(name)) layoutOf(name, shapes?.[name], ops.unitAxis);
    },
    update(grads, _state, { ops, params, shapes }) {
      if (!params) throw new GradpipeError(fn, 'needs the parameters: call step(grads, { params, shapes })');
      const out: Gradients<(typeof grads)[string]> = {};
      const flags = [];
      for (const name of Object.keys(grads)) {
        const g = grads[name]!;
        if (exclude.includes(name)) {
          out[name] = g;
          continue;
        }
        const layout = layoutOf(name, shapes?.[name], ops.unitAxis);
        const gradNorms = ops.unitNorms(g, layout);
        const limits = ops.floorTimes(ops.unitNorms(params[name]!, layout), eps, clipping);
        flags.push(ops.anyGreater(gradNorms, limits));
        out[name] = ops.clipUnits(g, layout, gradNorms, limits);
      }
      return { grads: out, decisions: { clipped: anyOf(ops, flags) } };
    },
  };
}

/**
 * The layout of units indexed by the axes not in `axes`: a leading block of kept axes is `'first'`, a trailing one
 * `'last'`, none at all one unit.
 */
function layoutFromAxes(fn: string, name: string, shape: readonly number[] | undefined, axes: readonly number[]): UnitLayout {
  if (shape === undefined)
    throw new GradpipeError(fn, `axes need the shape of ${JSON.stringify(name)}: pass step(grads, { params, shapes })`);
  const rank = shape.length;
  if (rank < 2) return { units: 1, axis: 'first' };
  const reduced = axes.map((a) => (a < 0 ? a + rank : a));
  if (reduced.some((a) => a < 0 || a >= rank)) {
    throw new GradpipeError(fn, `axes [${axes.join(', ')}] are out of range for ${JSON.stringify(name)} of shape [${shape.join(', ')}]`);
  }
  const kept = shape.map((_, i) => i).filter((i) => !reduced.includes(i));
  const units = kept.reduce((n, i) => n * shape[i]!, 1);
  if (kept.length === 0) return { units: 1, axis: 'first' };
  if (kept.every((axis, i) => axis === i)) return { units, axis: 'first' };
  if (kept.every((axis, i) => axis === rank - kept.length + i)) return { units, axis: 'last' };
  throw new GradpipeError(
    fn,
    `axes [${axes.join(', ')}] of ${JSON.stringify(name)} (shape [${shape.join(', ')}]) leave axes ${kept.join(', ')} as the units, which are not a leading or trailing block; reshape the tensor so they are`,
  );
}
