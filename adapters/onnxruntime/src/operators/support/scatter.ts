import type { GradientContext } from '../../autodiff/OperatorRule.js';
import { DataType, floatTensor } from '../../onnx/onnxProto.js';
import { dimsOf } from './dims.js';

/**
 * The gradient of an operator that only picks elements of `x` by position — Slice with any starts, ends and
 * steps, Pad in reflect or edge mode: the same operator, applied to the positions of x's elements, says where
 * each output element came from, and `dy` is added back there (several outputs may come from one element).
 * Costs an int64 tensor of x's size; the common static cases have cheaper rules.
 */
export function scatterBackThroughPositions(c: GradientContext, x: string, dy: string, pick: (positions: string) => string): string {
  const b = c.b;
  const dims = dimsOf(c, x);
  const size = b.op('Size', [x]);
  const positions = b.reshape(b.op('Range', [b.int64(0), size, b.int64(1)], {}, 'positions'), dims);
  const picked = b.reshape(pick(positions), [-1]);
  const zeros = b.op('ConstantOfShape', [b.unsqueeze(size, [0])], { value: { tensor: floatTensor('', [1], [0]) } }, 'zeros');
  const flat = b.op('ScatterElements', [zeros, picked, b.reshape(dy, [-1])], { axis: 0, reduction: { string: 'add' } }, 'scatter_grad');
  return b.reshape(flat, dims);
}

/**
 * Index values as int64 in [0, dim): negative indices (which Gather accepts, counting from the end) are moved
 * up by the size of the indexed axis. Constant indices that are already non-negative pass as they are.
 */
export function nonNegativeIndices(c: GradientContext, indices: string, data: string, axis: number): string {
  const b = c.b;
  const info = c.info(indices);
  const idx = info.type === DataType.INT64 ? indices : b.cast(indices, DataType.INT64);
  if (info.value?.every((v) => typeof v === 'number' && v >= 0)) return idx;
  // The axis size as a 0-D value, so that adding it keeps the indices' own shape.
  const size = c.shape(data)?.[axis];
  const dim = typeof size === 'number' ? b.int64(size) : b.reshape(b.shapeOf(data, axis, axis + 1), []);
  return b.op('Where', [b.op('Less', [idx, b.int64(0)]), b.op('Add', [idx, dim]), idx], {}, 'indices');
}
