import { GradpipeError, describeValue } from '../errors/GradpipeError.js';
import { rejectUnknownKeys, requireOptionsObject, requirePositiveFinite } from '../errors/validation.js';
import type { GradientTransform, Gradients, JsonObject } from '../pipeline/GradientTransform.js';
import { anyOf } from './support/anyOf.js';
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
  rejectUnknownKeys(fn, options, ['clipping', 'eps', 'unitAxis', 'exclude']);
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
  const config: JsonObject = { clipping, eps, exclude: [...exclude] };
  if (unitAxis !== undefined) config.unitAxis = unitAxis;
  return {
    kind: fn,
    config,
    needsParams: true,
    init: () => null,
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
        const layout = unitLayout(shapes?.[name], unitAxis ?? ops.unitAxis);
        const gradNorms = ops.unitNorms(g, layout);
        const limits = ops.floorTimes(ops.unitNorms(params[name]!, layout), eps, clipping);
        flags.push(ops.anyGreater(gradNorms, limits));
        out[name] = ops.clipUnits(g, layout, gradNorms, limits);
      }
      return { grads: out, decisions: { clipped: anyOf(ops, flags) } };
    },
  };
}
