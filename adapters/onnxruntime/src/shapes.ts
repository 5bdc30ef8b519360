import type { OnnxNs } from './onnxProto.js';
import { DataType, attribute, intAttribute, intsAttribute, readInt64Tensor, toNumber } from './onnxProto.js';

/** A dimension: a number when static, a string when symbolic (e.g. `'batch'`), undefined when unknown. */
export type Dim = number | string | undefined;
/** A tensor shape; undefined when even the rank is unknown. */
export type Shape = Dim[] | undefined;

/**
 * Static shapes (with symbolic dims) of the graph's values, as far as they can be known from the inputs,
 * initializers, value_info and the operators the differentiator supports. Enough to know ranks and which axes
 * were broadcast, which is all the gradient rules need.
 */
export function inferShapes(graph: OnnxNs.IGraphProto, opset: number): { shapes: Map<string, Shape>; ints: Map<string, number[]> } {
  const shapes = new Map<string, Shape>();
  const ints = new Map<string, number[]>();
  const fromValueInfo = (v: OnnxNs.IValueInfoProto) => {
    const dims = v.type?.tensorType?.shape?.dim;
    if (!v.name || !v.type?.tensorType?.shape) return;
    shapes.set(
      v.name,
      (dims ?? []).map((d) => (d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : d.dimParam || undefined)),
    );
  };
  for (const v of graph.input ?? []) fromValueInfo(v);
  for (const v of graph.valueInfo ?? []) fromValueInfo(v);
  for (const t of graph.initializer ?? []) {
    shapes.set(t.name!, (t.dims ?? []).map((d) => toNumber(d)));
    if (t.dataType === DataType.INT64) ints.set(t.name!, readInt64Tensor(t));
  }
  for (const node of graph.node ?? []) {
    if (node.opType === 'Constant') {
      const value = attribute(node, 'value')?.t;
      if (value) {
        shapes.set(node.output![0]!, (value.dims ?? []).map((d) => toNumber(d)));
        if (value.dataType === DataType.INT64) ints.set(node.output![0]!, readInt64Tensor(value));
      }
      continue;
    }
    const out = outputShape(node, (name) => shapes.get(name), (name) => ints.get(name), opset);
    const name = node.output?.[0];
    if (name && out !== undefined) shapes.set(name, out);
  }
  return { shapes, ints };
}

const SAME_SHAPE = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Identity', 'Dropout', 'Neg', 'Exp', 'Log', 'Sqrt', 'Abs', 'Cast', 'Elu', 'Erf',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Sum', 'Max', 'Min']);

function outputShape(
  node: OnnxNs.INodeProto,
  shapeOf: (name: string) => Shape,
  intsOf: (name: string) => number[] | undefined,
  opset: number,
): Shape {
  const op = node.opType ?? '';
  const inputs = node.input ?? [];
  const s0 = shapeOf(inputs[0] ?? '');
  if (SAME_SHAPE.has(op)) return s0 && [...s0];
  if (BROADCAST.has(op)) return broadcastShapes(inputs.map((i) => shapeOf(i)));
  switch (op) {
    case 'Gemm': {
      const a = s0;
      const b = shapeOf(inputs[1] ?? '');
      if (!a || !b || a.length !== 2 || b.length !== 2) return undefined;
      return [intAttribute(node, 'transA', 0) ? a[1] : a[0], intAttribute(node, 'transB', 0) ? b[0] : b[1]];
    }
    case 'MatMul': {
      const a = s0;
      const b = shapeOf(inputs[1] ?? '');
      if (!a || !b || a.length < 2 || b.length < 2) return undefined;
      const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
      return batch && [...batch, a[a.length - 2], b[b.length - 1]];
    }
    case 'Flatten': {
      if (!s0) return undefined;
      let axis = intAttribute(node, 'axis', 1);
      if (axis < 0) axis += s0.length;
      return [product(s0.slice(0, axis)), product(s0.slice(axis))];
    }
    case 'Transpose': {
      if (!s0) return undefined;
      const perm = intsAttribute(node, 'perm') ?? s0.map((_, i) => s0.length - 1 - i);
      return perm.map((p) => s0[p]);
    }
    case 'Reshape': {
      const target = intsOf(inputs[1] ?? '');
      if (!target) return undefined;
      const allowzero = intAttribute(node, 'allowzero', 0);
      const dims: Dim[] = target.map((d, i) => (d === 0 && !allowzero ? s0?.[i] : d));
      const minus = dims.indexOf(-1);
      if (minus >= 0) {
        const known = product(dims.filter((_, i) => i !== minus));
        const total = s0 ? product(s0) : undefined;
        dims[minus] = typeof known === 'number' && typeof total === 'number' && known > 0 ? total / known : undefined;
      }
      return dims;
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      if (!s0) return undefined;
      const axes = opset >= 13 ? intsOf(inputs[1] ?? '') : intsAttribute(node, 'axes');
      if (op === 'Squeeze') {
        if (!axes) return s0.every((d) => typeof d === 'number') ? s0.filter((d) => d !== 1) : undefined;
        const norm = axes.map((a) => (a < 0 ? a + s0.length : a));
        return s0.filter((_, i) => !norm.includes(i));
      }
      if (!axes) return undefined;
      const rank = s0.length + axes.length;
      const norm = axes.map((a) => (a < 0 ? a + rank : a));
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : s0[j++]);
      return out;
    }
    case 'Shape':
      return s0 ? [s0.length] : undefined;
    default:
      return undefined;
  }
}

/** Multidirectional (numpy) broadcasting of shapes; undefined when a rank is unknown. */
export function broadcastShapes(shapes: readonly Shape[]): Shape {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s![i - (rank - s!.length)]).filter((d, j) => i >= rank - shapes[j]!.length);
    const notOne = dims.filter((d) => d !== 1);
    if (notOne.length === 0) out.push(1);
    else if (notOne.some((d) => typeof d === 'number')) out.push(notOne.find((d) => typeof d === 'number'));
    else if (notOne.every((d) => d !== undefined && d === notOne[0])) out.push(notOne[0]);
    else out.push(undefined);
  }
  return out;
}

function product(dims: readonly Dim[]): Dim {
  let total = 1;
  let symbol: string | undefined;
  for (const d of dims) {
    if (typeof d === 'number') total *= d;
    else if (typeof d === 'string' && symbol === undefined) symbol = d;
    else return undefined;
  }
  if (symbol === undefined) return total;
  return total === 1 ? symbol : undefined;
}
