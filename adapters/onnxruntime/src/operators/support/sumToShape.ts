import type { GradientContext } from '../../autodiff/OperatorRule.js';
import type { GraphBuilder } from '../../onnx/GraphBuilder.js';
import { DataType } from '../../onnx/onnxProto.js';
import type { Dim } from '../../shapes/Dim.js';
import { isStatic } from '../../shapes/TensorInfo.js';

/**
 * Sums a gradient of a broadcast result back to the shape of the value that was broadcast (`target`): over
 * the leading axes the target lacks and the axes where it has size 1. Which axes those are is decided from the
 * static shapes when they say; when they do not (a named or unknown dim against a static one), the axes are
 * computed at run time from the two shapes, so broadcasting never needs static shapes.
 *
 * `othersMayBeWider(axis, rank)` says whether another operand of the broadcast may be larger than 1 there;
 * where none can, the target alone set the result's size and nothing was broadcast on that axis.
 */
export function sumToShape(
  b: GraphBuilder,
  grad: string,
  gradShape: readonly Dim[] | undefined,
  target: string,
  targetShape: readonly Dim[] | undefined,
  othersMayBeWider: (axis: number, rank: number) => boolean = () => true,
): string {
  const axes = gradShape && targetShape ? staticAxes(gradShape, targetShape, othersMayBeWider) : undefined;
  if (!axes) return dynamicSumToShape(b, grad, target);
  const lead = gradShape!.length - targetShape!.length;
  if (axes.length === 0 && lead === 0) return grad;
  const summed = axes.length ? b.reduceSum(grad, axes, true) : grad;
  if (lead === 0) return summed;
  return b.reshape(summed, isStatic(targetShape) ? targetShape : b.shapeOf(target));
}

/** The axes to sum over, or undefined when the static shapes do not tell. */
function staticAxes(
  gradShape: readonly Dim[],
  targetShape: readonly Dim[],
  othersMayBeWider: (axis: number, rank: number) => boolean,
): number[] | undefined {
  const rank = gradShape.length;
  const lead = rank - targetShape.length;
  if (lead < 0) return undefined;
  const axes: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    if (axis < lead) {
      axes.push(axis);
      continue;
    }
    const t = targetShape[axis - lead];
    const out = gradShape[axis];
    if (t === 1) {
      if (out !== 1) axes.push(axis); // summing a size-1 axis is harmless, so an unknown `out` is fine
    } else if (typeof t === 'number' || (t !== undefined && t === out)) {
      // the target has the result's size here: nothing was broadcast
    } else if (!othersMayBeWider(axis, rank)) {
      // no other operand is wider here, so the target set the result's size
    } else {
      return undefined;
    }
  }
  return axes;
}

/**
 * The same at run time: pad the target's shape with leading 1s to the gradient's rank, sum over the axes where
 * it is 1 and the gradient is not (`noop_with_empty_axes` makes "none" a no-op), reshape to the target's shape.
 */
function dynamicSumToShape(b: GraphBuilder, grad: string, target: string): string {
  const gradDims = b.shapeOf(grad);
  const targetDims = b.shapeOf(target);
  const lead = b.op('Sub', [b.op('Size', [gradDims]), b.op('Size', [targetDims])]);
  const ones = b.op('ConstantOfShape', [b.unsqueeze(lead, [0])], { value: { tensor: int64One() } });
  const padded = b.op('Concat', [ones, targetDims], { axis: 0 });
  const one = b.int64s([1]);
  const broadcast = b.op('And', [b.op('Equal', [padded, one]), b.op('Not', [b.op('Equal', [gradDims, one])])]);
  const axes = b.reshape(b.op('NonZero', [broadcast]), [-1]);
  const summed = b.op('ReduceSum', [grad, axes], { keepdims: 1, noop_with_empty_axes: 1 }, 'unbroadcast');
  return b.reshape(summed, targetDims);
}

function int64One() {
  const data = BigInt64Array.from([1n]);
  return { dims: [1], dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

/**
 * The gradient of input `i` of a broadcasting operator from a gradient of the output's shape (or of
 * `gradShape`): {@link sumToShape} with the node's other inputs as the operands that may be wider.
 */
export function unbroadcast(c: GradientContext, grad: string, i: number, gradShape: readonly Dim[] | undefined = c.shape(c.y[0]!)): string {
  const name = c.x[i]!;
  const others = c.x.filter((other, j) => j !== i && other).map((other) => c.shape(other));
  const mayBeWider = (axis: number, rank: number) =>
    others.some((shape) => {
      if (!shape) return true;
      const at = axis - (rank - shape.length);
      return at >= 0 && shape[at] !== 1;
    });
  return sumToShape(c.b, grad, gradShape, name, c.shape(name), mayBeWider);
}
