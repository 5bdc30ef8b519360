import type { GradientContext } from '../../autodiff/OperatorRule.js';
import type { GraphBuilder } from '../../onnx/GraphBuilder.js';
import type { Dim } from '../../shapes/Dim.js';
import { isStatic } from '../../shapes/TensorInfo.js';

/** The shape of a value as an int64 vector: a constant when it is static, `Shape(x)` otherwise. */
export function dimsOf(c: GradientContext, name: string): string {
  const shape = c.shape(name);
  return isStatic(shape) ? c.b.int64s(shape) : c.b.shapeOf(name);
}

/** `dy` reshaped back to the shape of `x` (the gradient of every operator that only moves elements around). */
export function reshapeLike(c: GradientContext, dy: string, x: string): string {
  return c.b.reshape(dy, dimsOf(c, x));
}

/** Dim `axis` of a value as a 1-element int64 vector (a constant when static). */
export function dimOf(b: GraphBuilder, name: string, shape: readonly Dim[] | undefined, axis: number): string {
  const d = shape?.[axis];
  return typeof d === 'number' ? b.int64s([d]) : b.shapeOf(name, axis, axis + 1);
}

/** Zeros shaped like `like`: a constant when its shape is static. */
export function zerosLike(c: GradientContext, like: string): string {
  const shape = c.shape(like);
  return isStatic(shape) ? c.b.zeros(shape) : c.b.zerosLike(like);
}
