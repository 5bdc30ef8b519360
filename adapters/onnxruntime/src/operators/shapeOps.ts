import type { OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import { FLOAT_TYPES } from '../onnx/onnxProto.js';
import type { Dim } from '../shapes/Dim.js';
import { addDim, divDim, mulDim, productDim } from '../shapes/Dim.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import { broadcastShapes, isStatic, normalizeAxis } from '../shapes/TensorInfo.js';
import { dimOf, dimsOf, reshapeLike, zerosLike } from './support/dims.js';
import { sumToShape } from './support/sumToShape.js';

/** The output keeps the input's contents in the same order (Reshape, Flatten, Squeeze…): its value carries over. */
function sameContents(c: ShapeContext, shape: readonly Dim[] | undefined): TensorInfo[] {
  const x = c.input(0);
  return [{ type: x.type, shape, ...(x.value ? { value: x.value } : {}) }];
}

/** The rank of a 1-D shape-like input (its length) when its contents are unknown. */
function unknownDims(info: TensorInfo): Dim[] | undefined {
  const n = info.shape?.[0];
  return info.shape?.length === 1 && typeof n === 'number' ? Array.from({ length: n }, () => undefined) : undefined;
}

/** Reshape's output dims: 0 copies the input's dim (unless allowzero), −1 takes what is left. */
export function reshapeDims(input: readonly Dim[] | undefined, target: readonly Dim[], allowzero: boolean): Dim[] {
  const dims = target.map((d, i) => (d === 0 && !allowzero ? input?.[i] : d));
  const minus = dims.indexOf(-1);
  if (minus >= 0) {
    const rest = productDim(dims.filter((_, i) => i !== minus));
    dims[minus] = input ? divDim(productDim(input), rest) : undefined;
  }
  return dims;
}

/** The axes of Squeeze/Unsqueeze (an input from opset 13), normalized; undefined when not known. */
function axesInput(c: ShapeContext, rank: number): number[] | undefined {
  const value = c.input(1).value;
  if (!value || value.some((a) => typeof a !== 'number')) return undefined;
  return (value as number[]).map((a) => normalizeAxis(a, rank));
}

/** The sizes of Split's outputs along its axis. */
function splitSizes(c: ShapeContext, total: Dim): Dim[] {
  const n = c.outputCount;
  const given = c.input(1).value;
  if (c.has(1)) return given ? [...given] : Array.from({ length: n }, () => undefined);
  const parts = c.attr.int('num_outputs', n);
  if (typeof total === 'number' && total % parts !== 0) {
    // opset 18: the last chunk is smaller when the size does not divide
    const chunk = Math.ceil(total / parts);
    return Array.from({ length: n }, (_, i) => Math.min(chunk, total - chunk * i));
  }
  return Array.from({ length: n }, () => divDim(total, parts));
}

/** Operators that move, copy or re-type elements without arithmetic. */
export const shapeOpRules = {
  Identity: {
    differentiable: [0],
    shape: (c) => sameContents(c, c.input(0).shape),
    grad: (c) => [c.dy[0]],
  },
  Reshape: {
    differentiable: [0],
    shape(c) {
      const target = c.input(1).value;
      const x = c.input(0);
      return sameContents(c, target ? reshapeDims(x.shape, target, c.attr.int('allowzero', 0) === 1) : unknownDims(c.input(1)));
    },
    grad: (c) => [reshapeLike(c, c.dy[0]!, c.x[0]!)],
  },
  Flatten: {
    differentiable: [0],
    shape(c) {
      const s = c.input(0).shape;
      if (!s) return sameContents(c, undefined);
      const axis = normalizeAxis(c.attr.int('axis', 1), s.length);
      return sameContents(c, [productDim(s.slice(0, axis)), productDim(s.slice(axis))]);
    },
    grad: (c) => [reshapeLike(c, c.dy[0]!, c.x[0]!)],
  },
  Squeeze: {
    differentiable: [0],
    shape(c) {
      const s = c.input(0).shape;
      if (!s) return sameContents(c, undefined);
      if (!c.has(1)) return sameContents(c, s.some((d) => typeof d !== 'number') ? undefined : s.filter((d) => d !== 1));
      const axes = axesInput(c, s.length);
      return sameContents(c, axes && s.filter((_, i) => !axes.includes(i)));
    },
    grad: (c) => [reshapeLike(c, c.dy[0]!, c.x[0]!)],
  },
  Unsqueeze: {
    differentiable: [0],
    shape(c) {
      const s = c.input(0).shape;
      const count = c.input(1).value?.length;
      if (!s || count === undefined) return sameContents(c, undefined);
      const axes = axesInput(c, s.length + count);
      if (!axes) return sameContents(c, undefined);
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < s.length + count; i++) out.push(axes.includes(i) ? 1 : s[j++]);
      return sameContents(c, out);
    },
    grad: (c) => [reshapeLike(c, c.dy[0]!, c.x[0]!)],
  },
  Transpose: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      const s = x.shape;
      if (!s) return [{ type: x.type }];
      const perm = c.attr.ints('perm') ?? s.map((_, i) => s.length - 1 - i);
      return [{ type: x.type, shape: perm.map((p) => s[p]) }];
    },
    grad(c) {
      const rank = c.rank(c.x[0]!);
      const perm = c.attr.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      const inverse: number[] = [];
      perm.forEach((p, i) => (inverse[p] = i));
      return [c.b.op('Transpose', [c.dy[0]!], { perm: inverse }, 'transpose_grad')];
    },
  },
  Expand: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      const target = c.input(1).value ?? unknownDims(c.input(1));
      return [{ type: x.type, shape: target && x.shape ? broadcastShapes([x.shape, target]) : undefined }];
    },
    grad: (c) => [sumToShape(c.b, c.dy[0]!, c.shape(c.y[0]!), c.x[0]!, c.shape(c.x[0]!))],
  },
  Tile: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      const repeats = c.input(1).value;
      if (!x.shape) return [{ type: x.type }];
      return [{ type: x.type, shape: repeats ? x.shape.map((d, i) => mulDim(d, repeats[i])) : x.shape.map(() => undefined) }];
    },
    grad(c) {
      // y viewed as [r0, d0, r1, d1, …]: the gradient of x sums over the repeat axes.
      const x = c.x[0]!;
      const rank = c.rank(x);
      const repeats = c.info(c.x[1]!).value;
      const shape = c.shape(x);
      const interleaved =
        repeats && isStatic(shape) && repeats.every((r) => typeof r === 'number')
          ? c.b.int64s(shape.flatMap((d, i) => [repeats[i] as number, d]))
          : c.b.reshape(c.b.op('Concat', [c.b.unsqueeze(c.x[1]!, [1]), c.b.unsqueeze(dimsOf(c, x), [1])], { axis: 1 }), [-1]);
      const viewed = c.b.reshape(c.dy[0]!, interleaved);
      return [
        c.b.reduceSum(
          viewed,
          Array.from({ length: rank }, (_, i) => 2 * i),
          false,
        ),
      ];
    },
  },
  Concat: {
    differentiable: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    shape(c) {
      const inputs = Array.from({ length: c.inputCount }, (_, i) => c.input(i));
      const type = inputs.find((x) => x.type !== undefined)?.type;
      const values = inputs.every((x) => x.value) ? inputs.flatMap((x) => [...x.value!]) : undefined;
      const first = inputs.find((x) => x.shape)?.shape;
      if (!first) return [{ type, ...(values ? { value: values } : {}) }];
      const axis = normalizeAxis(c.attr.int('axis', 0), first.length);
      const shape = first.map((_, i) => {
        if (i === axis) return inputs.reduce<Dim>((total, x) => addDim(total, x.shape?.[axis]), 0);
        return inputs.map((x) => x.shape?.[i]).find((d) => typeof d === 'number') ?? first[i];
      });
      return [{ type, shape, ...(values ? { value: values } : {}) }];
    },
    grad(c) {
      const axis = normalizeAxis(c.attr.int('axis', 0), c.rank(c.y[0]!));
      const sizes = c.x.map((x) => c.shape(x)?.[axis]);
      const split = sizes.every((d) => typeof d === 'number')
        ? c.b.int64s(sizes as number[])
        : c.b.op(
            'Concat',
            c.x.map((x) => dimOf(c.b, x, c.shape(x), axis)),
            { axis: 0 },
          );
      const parts = c.b.ops('Split', [c.dy[0]!, split], c.x.length, { axis }, 'concat_grad');
      return parts.map((p, i) => (c.needs(i) ? p : undefined));
    },
  },
  Split: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      if (!x.shape) return Array.from({ length: c.outputCount }, () => ({ type: x.type }));
      const axis = normalizeAxis(c.attr.int('axis', 0), x.shape.length);
      return splitSizes(c, x.shape[axis]).map((size) => ({ type: x.type, shape: x.shape!.map((d, i) => (i === axis ? size : d)) }));
    },
    grad(c) {
      const axis = normalizeAxis(c.attr.int('axis', 0), c.rank(c.x[0]!));
      const parts = c.y.map((_y, i) => c.dy[i] ?? zerosLike(c, c.output(i)));
      return [c.b.op('Concat', parts, { axis }, 'split_grad')];
    },
  },
  Cast: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      return [{ type: c.attr.int('to', 0), shape: x.shape, ...(x.value ? { value: x.value } : {}) }];
    },
    grad(c) {
      const from = c.info(c.x[0]!).type;
      if (from !== undefined && !FLOAT_TYPES.has(from)) return [undefined];
      const to = c.attr.int('to', 0);
      return [from === undefined || from === to ? c.dy[0] : c.b.cast(c.dy[0]!, from)];
    },
  },
  CastLike: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      return [{ type: c.input(1).type, shape: x.shape, ...(x.value ? { value: x.value } : {}) }];
    },
    grad(c) {
      const from = c.info(c.x[0]!).type;
      if (from !== undefined && !FLOAT_TYPES.has(from)) return [undefined];
      return [c.b.op('CastLike', [c.dy[0]!, c.x[0]!])];
    },
  },
} satisfies Record<string, OperatorRule>;
