import type { GradientContext, OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import type { Dim } from '../shapes/Dim.js';
import { mulDim } from '../shapes/Dim.js';
import { isStatic } from '../shapes/TensorInfo.js';
import type { Window } from './support/spatial.js';
import { readWindow, resolvePads, windowOutputs } from './support/spatial.js';

/** The window of a Conv or ConvTranspose node, its kernel from `kernel_shape` or the weight. */
function windowOf(c: GradientContext): Window {
  const w = c.shape(c.x[1]!);
  const x = c.shape(c.x[0]!);
  const spatial = (x?.length ?? w?.length ?? c.fail('needs the rank of its input')) - 2;
  return readWindow(c.attr, spatial, w?.slice(2)) ?? c.fail('needs kernel_shape or a weight of known shape');
}

/** The explicit pads of the node for input `x`; auto_pad needs static spatial sizes. */
function padsOf(c: GradientContext, w: Window, x: string): number[] {
  const sizes = c.shape(x)?.slice(2) ?? [];
  return (
    resolvePads(w, sizes) ?? c.fail(`auto_pad ${w.autoPad} needs static spatial sizes of ${JSON.stringify(x)} (export with explicit pads)`)
  );
}

/**
 * A transposed convolution back onto the positions of `x`: with the begin pads cropped and no end crop, the
 * result starts at x's first element; it is then cut to x's size, or padded with the zeros of rows no window
 * reached. (ConvTranspose's own end pads would also crop rows that the forward's end padding never reached.)
 */
export function transposeOnto(
  b: GraphBuilder,
  t: string,
  weight: string,
  attrs: { strides: number[]; dilations: number[]; kernel_shape: number[]; group?: number },
  beginPads: readonly number[],
  x: string,
  xSpatial: readonly Dim[] | undefined,
  tSpatial: readonly Dim[] | undefined,
): string {
  const spatial = beginPads.length;
  const axes = Array.from({ length: spatial }, (_, i) => i + 2);
  const spread = b.op(
    'ConvTranspose',
    [t, weight],
    { ...attrs, pads: [...beginPads, ...new Array<number>(spatial).fill(0)] },
    'transposed',
  );
  if (isStatic(xSpatial) && isStatic(tSpatial)) {
    const lengths = tSpatial.map(
      (o, i) => attrs.strides[i]! * (o - 1) + (attrs.kernel_shape[i]! - 1) * attrs.dilations[i]! + 1 - beginPads[i]!,
    );
    const missing = lengths.map((l, i) => Math.max(0, xSpatial[i]! - l));
    const padded = missing.every((m) => m === 0)
      ? spread
      : b.op('Pad', [spread, b.int64s([...new Array<number>(spatial + 4).fill(0), ...missing])]);
    return lengths.every((l, i) => l <= xSpatial[i]!)
      ? padded
      : b.slice(
          padded,
          axes.map(() => 0),
          xSpatial,
          axes,
        );
  }
  const missing = b.op('Max', [b.op('Sub', [b.shapeOf(x, 2), b.shapeOf(spread, 2)]), b.int64s([0])]);
  const padded = b.op('Pad', [spread, b.concatInts([new Array<number>(spatial + 4).fill(0), missing])]);
  return b.op('Slice', [padded, b.int64s(axes.map(() => 0)), b.shapeOf(x, 2), b.int64s(axes)], {}, 'fit');
}

/**
 * The weight gradient of a convolution with input `x` [N, C, D…] and output gradient `dy` [N, M, O…]:
 * a convolution of x with dy, batch and channels swapped, strides and dilations exchanged. For `group` G the
 * channels are regrouped so that each group of x meets only its own group of dy. The result may be larger
 * than the kernel (when the strides leave input rows unused); it is cut to the kernel.
 */
export function convWeightGradient(
  b: GraphBuilder,
  x: string,
  dy: string,
  xShape: readonly Dim[] | undefined,
  w: Window,
  pads: readonly number[],
  group: number,
): string {
  const spatial = w.kernel.length;
  const rest = Array.from({ length: spatial }, (_, i) => i + 2);
  let input: string;
  if (group === 1) {
    input = b.transpose(x, [1, 0, ...rest]); // [C, N, D…]
  } else {
    const channels = xShape?.[1];
    if (typeof channels !== 'number') throw new Error('grouped convolution needs a static channel count');
    const perGroup = channels / group;
    const spatialDims = xShape?.slice(2);
    const split = isStatic(spatialDims)
      ? b.int64s([0, group, perGroup, ...spatialDims])
      : b.concatInts([[0, group, perGroup], b.shapeOf(x, 2)]);
    const grouped = b.op('Transpose', [b.reshape(x, split)], { perm: [2, 1, 0, ...rest.map((r) => r + 1)] }); // [Cg, G, N, D…]
    const merged = isStatic(spatialDims) ? b.int64s([perGroup, -1, ...spatialDims]) : b.concatInts([[perGroup, -1], b.shapeOf(x, 2)]);
    input = b.reshape(grouped, merged); // [Cg, G·N, D…]
  }
  const filters = b.transpose(dy, [1, 0, ...rest]); // [M, N, O…]
  const full = b.op('Conv', [input, filters], { strides: w.dilations, dilations: w.strides, pads: [...pads], group }, 'conv_weight_grad');
  const cut = b.slice(
    full,
    w.kernel.map(() => 0),
    w.kernel,
    rest,
  );
  return b.transpose(cut, [1, 0, ...rest]); // [M, Cg, k…]
}

function convGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const [x, weight, bias] = c.x;
  const dy = c.dy[0]!;
  const w = windowOf(c);
  const spatial = w.kernel.length;
  const pads = padsOf(c, w, x!);
  const group = c.attr.int('group', 1);
  let dx: string | undefined;
  if (c.needs(0)) {
    // The adjoint of a convolution is the transposed convolution with the same weight.
    const attrs = { strides: w.strides, dilations: w.dilations, kernel_shape: w.kernel, group };
    dx = transposeOnto(b, dy, weight!, attrs, pads.slice(0, spatial), x!, c.shape(x!)?.slice(2), c.shape(c.y[0]!)?.slice(2));
  }
  const dw = c.needs(1) ? convWeightGradient(b, x!, dy, c.shape(x!), w, pads, group) : undefined;
  const db = bias && c.needs(2) ? b.reduceSum(dy, [0, ...Array.from({ length: spatial }, (_, i) => i + 2)], false) : undefined;
  return [dx, dw, db];
}

function convTransposeGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const [x, weight, bias] = c.x;
  const dy = c.dy[0]!;
  const w = windowOf(c);
  const spatial = w.kernel.length;
  if (c.attr.has('output_shape') || w.autoPad !== 'NOTSET') {
    if (!c.attr.has('output_shape') && w.autoPad === 'VALID') w.pads = w.pads.map(() => 0);
    else c.fail('output_shape and auto_pad SAME are not supported on ConvTranspose (export with explicit pads and output_padding)');
  }
  const group = c.attr.int('group', 1);
  // The adjoint of a transposed convolution is the convolution with the same weight.
  const dx = c.needs(0)
    ? b.op(
        'Conv',
        [dy, weight!],
        { strides: w.strides, dilations: w.dilations, pads: w.pads, group, kernel_shape: w.kernel },
        'convtranspose_input_grad',
      )
    : undefined;
  // Its weight [C, M/G, k…] is that of the convolution taking dy to x: the same weight gradient, roles swapped.
  const dw = c.needs(1) ? convWeightGradient(b, dy, x!, c.shape(c.y[0]!), w, w.pads, group) : undefined;
  const db = bias && c.needs(2) ? b.reduceSum(dy, [0, ...Array.from({ length: spatial }, (_, i) => i + 2)], false) : undefined;
  return [dx, dw, db];
}

function convShape(c: ShapeContext) {
  const [x, weight] = [c.input(0), c.input(1)];
  if (!x.shape) return [{ type: x.type }];
  const spatial = x.shape.length - 2;
  const w = readWindow(c.attr, spatial, weight.shape?.slice(2));
  const sizes = x.shape.slice(2);
  return [{ type: x.type, shape: [x.shape[0], weight.shape?.[0], ...(w ? windowOutputs(sizes, w, false) : sizes.map(() => undefined))] }];
}

function convTransposeShape(c: ShapeContext) {
  const [x, weight] = [c.input(0), c.input(1)];
  if (!x.shape) return [{ type: x.type }];
  const spatial = x.shape.length - 2;
  const w = readWindow(c.attr, spatial, weight.shape?.slice(2));
  const channels = mulDim(weight.shape?.[1], c.attr.int('group', 1));
  const given = c.attr.ints('output_shape');
  if (given) return [{ type: x.type, shape: [x.shape[0], channels, ...given.slice(-spatial)] }];
  const padding = c.attr.ints('output_padding') ?? new Array<number>(spatial).fill(0);
  const sizes = x.shape.slice(2).map((d, i): Dim => {
    if (!w || typeof d !== 'number') return undefined;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return d * w.strides[i]!;
    const pads = w.autoPad === 'VALID' ? w.pads.map(() => 0) : w.pads;
    return w.strides[i]! * (d - 1) + padding[i]! + (w.kernel[i]! - 1) * w.dilations[i]! + 1 - pads[i]! - pads[spatial + i]!;
  });
  return [{ type: x.type, shape: [x.shape[0], channels, ...sizes] }];
}

/** Convolutions: 1-D, 2-D and 3-D, strides, pads (or auto_pad), dilations, groups (depthwise too). */
export const convolutionRules = {
  Conv: { differentiable: [0, 1, 2], shape: convShape, grad: convGrad },
  ConvTranspose: { differentiable: [0, 1, 2], shape: convTransposeShape, grad: convTransposeGrad },
} satisfies Record<string, OperatorRule>;
