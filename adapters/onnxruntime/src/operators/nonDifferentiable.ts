import type { OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import { DataType } from '../onnx/onnxProto.js';
import type { Dim } from '../shapes/Dim.js';
import { productDim } from '../shapes/Dim.js';
import { fromTensor } from '../shapes/inferShapes.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import { MAX_TRACKED_VALUES, normalizeAxis } from '../shapes/TensorInfo.js';
import { booleanBroadcasting, likeInput } from './support/shapeRules.js';

/** An operator whose outputs carry no gradient (integers, booleans, constants, rounding), with its shape rule. */
const constantOutput = (shape: OperatorRule['shape']): OperatorRule => ({ differentiable: [], shape });

const booleanLikeInput: OperatorRule['shape'] = (c) => [{ type: DataType.BOOL, shape: c.input(0).shape }];

function constantShape(c: ShapeContext): TensorInfo[] {
  const t = c.attr.tensor('value');
  if (t) return [fromTensor(t)];
  const f = c.attr.has('value_float') ? c.attr.float('value_float', 0) : undefined;
  if (f !== undefined) return [{ type: DataType.FLOAT, shape: [], value: [f] }];
  const fs = c.attr.floats('value_floats');
  if (fs) return [{ type: DataType.FLOAT, shape: [fs.length], value: fs }];
  if (c.attr.has('value_int')) return [{ type: DataType.INT64, shape: [], value: [c.attr.int('value_int', 0)] }];
  const is = c.attr.ints('value_ints');
  if (is) return [{ type: DataType.INT64, shape: [is.length], value: is }];
  return [{}];
}

function shapeShape(c: ShapeContext): TensorInfo[] {
  const s = c.input(0).shape;
  if (!s) return [{ type: DataType.INT64 }];
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s.length : v, 0), s.length);
  const start = clamp(c.attr.int('start', 0));
  const end = c.attr.has('end') ? clamp(c.attr.int('end', s.length)) : s.length;
  const dims = s.slice(start, Math.max(start, end));
  return [{ type: DataType.INT64, shape: [dims.length], value: dims }];
}

function constantOfShape(c: ShapeContext): TensorInfo[] {
  const dims = c.input(0).value;
  const t = c.attr.tensor('value');
  const fill = t ? fromTensor(t) : { type: DataType.FLOAT, value: [0] };
  const size = dims ? productDim(dims) : undefined;
  const value = typeof size === 'number' && size <= MAX_TRACKED_VALUES && fill.value ? new Array<Dim>(size).fill(fill.value[0]) : undefined;
  return [{ type: fill.type, shape: dims ? [...dims] : undefined, ...(value ? { value } : {}) }];
}

function rangeShape(c: ShapeContext): TensorInfo[] {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.input(i).value?.[0]);
  const type = c.input(0).type;
  if (typeof start !== 'number' || typeof limit !== 'number' || typeof delta !== 'number' || delta === 0)
    return [{ type, shape: [undefined] }];
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const value = n <= MAX_TRACKED_VALUES ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined;
  return [{ type, shape: [n], ...(value ? { value } : {}) }];
}

function argShape(c: ShapeContext): TensorInfo[] {
  const s = c.input(0).shape;
  if (!s) return [{ type: DataType.INT64 }];
  const axis = normalizeAxis(c.attr.int('axis', 0), s.length);
  const keep = c.attr.int('keepdims', 1) === 1;
  return [{ type: DataType.INT64, shape: keep ? s.map((d, i) => (i === axis ? 1 : d)) : s.filter((_, i) => i !== axis) }];
}

function oneHotShape(c: ShapeContext): TensorInfo[] {
  const s = c.input(0).shape;
  const depth = c.input(1).value?.[0];
  const type = c.input(2).type;
  if (!s) return [{ type }];
  const axis = normalizeAxis(c.attr.int('axis', -1), s.length + 1);
  const shape: Dim[] = [...s];
  shape.splice(axis, 0, depth);
  return [{ type, shape }];
}

function topKShape(c: ShapeContext): TensorInfo[] {
  const x = c.input(0);
  const k = c.input(1).value?.[0];
  if (!x.shape) return [{ type: x.type }, { type: DataType.INT64 }];
  const axis = normalizeAxis(c.attr.int('axis', -1), x.shape.length);
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  return [
    { type: x.type, shape },
    { type: DataType.INT64, shape },
  ];
}

/** Operators whose outputs carry no gradient, so a gradient path stops there (as in PyTorch). */
export const nonDifferentiableRules = {
  Constant: constantOutput(constantShape),
  Shape: constantOutput(shapeShape),
  Size: constantOutput((c) => {
    const s = c.input(0).shape;
    const n = s ? productDim(s) : undefined;
    return [{ type: DataType.INT64, shape: [], ...(n !== undefined ? { value: [n] } : {}) }];
  }),
  ConstantOfShape: constantOutput(constantOfShape),
  Range: constantOutput(rangeShape),
  EyeLike: constantOutput((c) => [
    { type: c.attr.has('dtype') ? c.attr.int('dtype', DataType.FLOAT) : c.input(0).type, shape: c.input(0).shape },
  ]),
  RandomNormalLike: constantOutput((c) => [
    { type: c.attr.has('dtype') ? c.attr.int('dtype', DataType.FLOAT) : c.input(0).type, shape: c.input(0).shape },
  ]),
  RandomUniformLike: constantOutput((c) => [
    { type: c.attr.has('dtype') ? c.attr.int('dtype', DataType.FLOAT) : c.input(0).type, shape: c.input(0).shape },
  ]),
  Equal: constantOutput(booleanBroadcasting),
  Greater: constantOutput(booleanBroadcasting),
  GreaterOrEqual: constantOutput(booleanBroadcasting),
  Less: constantOutput(booleanBroadcasting),
  LessOrEqual: constantOutput(booleanBroadcasting),
  And: constantOutput(booleanBroadcasting),
  Or: constantOutput(booleanBroadcasting),
  Xor: constantOutput(booleanBroadcasting),
  Not: constantOutput(booleanLikeInput),
  IsNaN: constantOutput(booleanLikeInput),
  IsInf: constantOutput(booleanLikeInput),
  ArgMax: constantOutput(argShape),
  ArgMin: constantOutput(argShape),
  NonZero: constantOutput((c) => [{ type: DataType.INT64, shape: [c.input(0).shape?.length, undefined] }]),
  OneHot: constantOutput(oneHotShape),
  TopK: constantOutput(topKShape),
  // Rounding has zero gradient almost everywhere; PyTorch's backward of round/floor/ceil/sign is 0.
  Floor: constantOutput(likeInput(0)),
  Ceil: constantOutput(likeInput(0)),
  Round: constantOutput(likeInput(0)),
  Sign: constantOutput(likeInput(0)),
  Hardmax: constantOutput(likeInput(0)),
} satisfies Record<string, OperatorRule>;
