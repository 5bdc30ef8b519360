import type { Gradients } from '../../pipeline/GradientTransform.js';
import type { TensorOps } from '../../backends/TensorOps.js';

/**
 * Every tensor of `grads` multiplied by the same `factor` (a backend scalar). A host factor of exactly 1 changes
 * nothing (see {@link TensorOps.scale}), so `grads` itself comes back without a walk over its tensors — with
 * thousands of tensors that walk, and listing the new object's keys again, is most of a step that does not clip.
 *
 * @example
 * ```ts
 * import { scaleAll, typedArrayOps } from '@gradpipe/core';
 * scaleAll(typedArrayOps, { w: new Float32Array([2, 4]) }, 0.5).w; // Float32Array [1, 2], scaled in place
 * ```
 */
export function scaleAll<T, S>(ops: TensorOps<T, S>, grads: Gradients<T>, factor: S): Gradients<T> {
  if ((factor as unknown) === 1) return grads;
  const out: Gradients<T> = {};
  for (const name of Object.keys(grads)) out[name] = ops.scale(grads[name]!, factor);
  return out;
}
