import type { UnitLayout } from '../../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../../errors/GradpipeError.js';

/**
 * The unit layout of a tensor of this shape: one unit unless it has at least two dimensions.
 *
 * @example
 * ```ts
 * import { unitLayout } from '@gradpipe/core';
 * unitLayout([64, 3, 3, 3], 'first'); // { units: 64, axis: 'first' }: a PyTorch conv weight [out, in, kh, kw]
 * unitLayout([784, 128], 'last');     // { units: 128, axis: 'last' }: a TensorFlow dense kernel [in, out]
 * unitLayout([128], 'first');         // { units: 1, axis: 'first' }: a bias is one unit
 * ```
 */
export function unitLayout(shape: readonly number[] | undefined, axis: 'first' | 'last'): UnitLayout {
  if (axis !== 'first' && axis !== 'last')
    throw new GradpipeError('unitLayout', `axis must be 'first' or 'last', got ${describeValue(axis)}`);
  if (shape !== undefined && (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))) {
    throw new GradpipeError('unitLayout', `shape must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  if (!shape || shape.length < 2) return { units: 1, axis };
  return { units: axis === 'first' ? shape[0]! : shape[shape.length - 1]!, axis };
}
