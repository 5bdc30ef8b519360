import type { GradientContext, OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import type { Dim } from '../shapes/Dim.js';
import { productDim } from '../shapes/Dim.js';
import { normalizeAxis } from '../shapes/TensorInfo.js';
import { dimsOf } from './support/dims.js';

/** Reduce* axes: ReduceSum takes them as an input from opset 13, the others from 18 (an attribute before). */
function axesOf(
  op: string,
  opset: number,
  attrAxes: number[] | undefined,
  input: { given: boolean; value: readonly Dim[] | undefined },
): { known: true; axes: number[] | undefined } | { known: false } {
  const asInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  if (!asInput) return { known: true, axes: attrAxes };
  if (!input.given) return { known: true, axes: undefined };
  if (!input.value || input.value.some((a) => typeof a !== 'number')) return { known: false };
  return { known: true, axes: input.value as number[] };
}

/** The normalized reduced axes (every axis when none are given, unless noop_with_empty_axes), or undefined. */
function reducedAxes(
  c: ShapeContext | GradientContext,
  rank: number,
  inputInfo: { given: boolean; value: readonly Dim[] | undefined },
): number[] | undefined {
  const op = c.node.opType;
  const opset = 'opset' in c ? c.opset : c.b.opset;
  const read = axesOf(op, opset, c.attr.ints('axes'), inputInfo);
  if (!read.known) return undefined;
  const noop = c.attr.int('noop_with_empty_axes', 0) === 1;
  if (!read.axes || read.axes.length === 0) return noop ? [] : Array.from({ length: rank }, (_, i) => i);
  return [...new Set(read.axes.map((a) => normalizeAxis(a, rank)))].sort((a, b) => a - b);
}

function reduceShape(c: ShapeContext) {
  const x = c.input(0);
  if (!x.shape) return [{ type: x.type }];
  const axes = reducedAxes(c, x.shape.length, { given: c.has(1), value: c.input(1).value });
  const keep = c.attr.int('keepdims', 1) === 1;
  if (!axes) return [{ type: x.type, ...(keep ? { shape: x.shape.map(() => undefined) } : {}) }];
  const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return [{ type: x.type, shape }];
}

/** What a reduction's gradient rule works with: dy and y with the reduced axes kept (size 1), ready to broadcast. */
interface Reduced {
  axes: number[];
  /** dy with the reduced axes as size-1 dims. */
  dy: string;
  /** y with the reduced axes as size-1 dims. */
  y: () => string;
}

function reduced(c: GradientContext): Reduced {
  const x = c.x[0]!;
  const rank = c.rank(x);
  const axes = reducedAxes(c, rank, { given: !!c.x[1], value: c.info(c.x[1] ?? '').value });
  if (!axes) c.fail('needs constant axes');
  const keep = c.attr.int('keepdims', 1) === 1 || axes.length === 0;
  const restore = (v: string) => (keep ? v : c.b.unsqueeze(v, axes));
  return { axes, dy: restore(c.dy[0]!), y: () => restore(c.y[0]!) };
}

/** A reduction whose gradient is `dy` (axes restored) times a slope broadcast over x. */
function reduction(slope: (c: GradientContext, r: Reduced) => string | undefined): OperatorRule {
  return {
    differentiable: [0],
    shape: reduceShape,
    grad(c) {
      const r = reduced(c);
      if (r.axes.length === 0) return [c.dy[0]];
      const s = slope(c, r);
      // Without a slope (ReduceSum) the gradient is dy copied along the reduced axes.
      return [s ? c.b.op('Mul', [r.dy, s], {}, 'reduce_grad') : c.b.op('Expand', [r.dy, dimsOf(c, c.x[0]!)], {}, 'reduce_grad')];
    },
  };
}

/** Max/Min: the gradient goes to the elements equal to the result, split evenly on ties (as torch.amax). */
const selectExtreme = reduction((c, r) => {
  const mask = c.b.toFloat(c.b.op('Equal', [c.x[0]!, r.y()]));
  return c.b.op('Div', [mask, c.b.reduceSum(mask, r.axes, true)]);
});

/** Reductions over any axes, with or without keepdims. */
export const reductionRules = {
  ReduceSum: reduction(() => undefined),
  ReduceMean: reduction((c, r) => {
    // 1/n for n reduced elements: static when the reduced dims are, otherwise |x| / |y| at run time.
    const x = c.x[0]!;
    const n = productDim(r.axes.map((a) => c.shape(x)?.[a]));
    const inverse =
      typeof n === 'number' ? c.b.scalar(1 / n) : c.b.op('Div', [c.b.toFloat(c.b.op('Size', [c.y[0]!])), c.b.toFloat(c.b.op('Size', [x]))]);
    return c.b.op('Expand', [inverse, dimsOf(c, x)]);
  }),
  ReduceSumSquare: reduction((c) => c.b.op('Mul', [c.x[0]!, c.b.scalar(2)])),
  // x/‖x‖, and 0 where the norm is 0 (as PyTorch's norm backward)
  ReduceL2: reduction((c, r) => {
    const y = r.y();
    const zero = c.b.scalar(0);
    return c.b.op('Where', [c.b.op('Equal', [y, zero]), zero, c.b.op('Div', [c.x[0]!, y])]);
  }),
  ReduceL1: reduction((c) => c.b.op('Sign', [c.x[0]!])),
  ReduceLogSumExp: reduction((c, r) => c.b.op('Exp', [c.b.op('Sub', [c.x[0]!, r.y()])])),
  ReduceMax: selectExtreme,
  ReduceMin: selectExtreme,
} satisfies Record<string, OperatorRule>;
