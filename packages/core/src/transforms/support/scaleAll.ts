import type { TensorOps } from '../../backends/TensorOps.js';
import type { Gradients } from '../../pipeline/GradientTransform.js';

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
  const names = Object.keys(grads);
  const scaled: T[] = new Array(names.length);
  // Last measured, first scaled: the tensors the norm pass read last are still in the CPU's cache (tens of MB).
  for (let i = names.length - 1; i >= 0; i--) scaled[i] = ops.scale(grads[names[i]!]!, factor);
  const out: Gradients<T> = {};
  names.forEach((name, i) => {
    out[name] = scaled[i]!;
  });
  return out;
}
