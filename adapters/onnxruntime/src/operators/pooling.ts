import type { GradientContext, OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import { DataType, floatTensor } from '../onnx/onnxProto.js';
import { productDim } from '../shapes/Dim.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import { isStatic } from '../shapes/TensorInfo.js';
import { transposeOnto } from './convolution.js';
import { dimsOf } from './support/dims.js';
import type { Window } from './support/spatial.js';
import { readWindow, resolvePads, windowOutputs } from './support/spatial.js';

function poolShape(c: ShapeContext): TensorInfo[] {
  const x = c.input(0);
  if (!x.shape) return [{ type: x.type }, { type: DataType.INT64 }];
  const w = readWindow(c.attr, x.shape.length - 2);
  const sizes = x.shape.slice(2);
  const out = w ? windowOutputs(sizes, w, true, c.attr.int('ceil_mode', 0) === 1) : sizes.map(() => undefined);
  const shape = [x.shape[0], x.shape[1], ...out];
  return [
    { type: x.type, shape },
    { type: DataType.INT64, shape },
  ];
}

function globalShape(c: ShapeContext): TensorInfo[] {
  const x = c.input(0);
  return [{ type: x.type, shape: x.shape && [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)] }];
}

function windowAndPads(c: GradientContext): { w: Window; pads: number[] } {
  const x = c.x[0]!;
  const spatial = c.rank(x) - 2;
  const w = readWindow(c.attr, spatial) ?? c.fail('needs kernel_shape');
  const sizes = c.shape(x)?.slice(2) ?? [];
  const pads = resolvePads(w, sizes, true) ?? c.fail(`auto_pad ${w.autoPad} needs static spatial sizes`);
  if (c.attr.int('ceil_mode', 0) === 1) refuseLastWindowInPadding(c, w, pads, sizes);
  return { w, pads };
}

/**
 * With ceil_mode, a last window that would start in the end padding is dropped by ONNX Runtime's kernel (and
 * by PyTorch) but not by the ONNX shape inference ONNX Runtime runs first, so the graph's static shapes and
 * its values disagree there, and a gradient graph built on them breaks. Refused, rather than risked.
 */
function refuseLastWindowInPadding(
  c: GradientContext,
  w: Window,
  pads: readonly number[],
  sizes: readonly (number | string | undefined)[],
): void {
  sizes.forEach((size, i) => {
    if (typeof size !== 'number') return;
    const numerator = size + pads[i]! + pads[w.kernel.length + i]! - w.dilations[i]! * (w.kernel[i]! - 1) - 1;
    const out = Math.ceil(numerator / w.strides[i]!) + 1;
    if ((out - 1) * w.strides[i]! >= size + pads[i]!) {
      c.fail(
        `ceil_mode with a last window that starts in the padding (axis ${i + 2}): ONNX Runtime's shape inference and its kernel disagree on the output size there; lower the end pad or use ceil_mode 0`,
      );
    }
  });
}

/**
 * MaxPool: each output's gradient goes to the element its window took the max from — the Indices output
 * (added to the node when the model left it out) says which, as flat positions in x. Overlapping windows
 * may pick the same element, so the gradients are added (ScatterElements with reduction add).
 */
function maxPoolGrad(c: GradientContext): (string | undefined)[] {
  if (c.attr.int('storage_order', 0) !== 0) c.fail('storage_order 1 (column-major indices) is not supported');
  windowAndPads(c);
  const b = c.b;
  const x = c.x[0]!;
  const indices = c.output(1);
  const size = b.op('Size', [x]);
  const zeros = b.op('ConstantOfShape', [b.unsqueeze(size, [0])], { value: { tensor: floatTensor('', [1], [0]) } });
  const flat = b.op(
    'ScatterElements',
    [zeros, b.reshape(indices, [-1]), b.reshape(c.dy[0]!, [-1])],
    { axis: 0, reduction: { string: 'add' } },
    'maxpool_grad',
  );
  return [b.reshape(flat, dimsOf(c, x))];
}

/**
 * AveragePool: each output spreads its gradient over its window, divided by the count the forward divided
 * by. That count is read off ONNX Runtime itself — AveragePool of ones over the number of real elements in
 * each window (a convolution of ones) — so count_include_pad and ceil_mode mean exactly what they do there.
 * The spreading is a transposed convolution with a kernel of ones, on channels folded into the batch.
 */
function averagePoolGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const x = c.x[0]!;
  const y = c.y[0]!;
  const { w, pads } = windowAndPads(c);
  const spatial = w.kernel.length;
  const axes = Array.from({ length: spatial }, (_, i) => i + 2);
  const ceil = c.attr.int('ceil_mode', 0) === 1;
  const includePad = c.attr.int('count_include_pad', 0) === 1;
  const kernelOnes = b.floats([1, 1, ...w.kernel], new Array<number>(productDim(w.kernel) as number).fill(1));
  const attrs = { strides: w.strides, dilations: w.dilations, kernel_shape: w.kernel };

  let scale: string;
  if (includePad && !ceil) {
    scale = b.scalar(1 / (productDim(w.kernel) as number)); // every window counts the whole kernel
  } else {
    const ones = b.op(
      'ConstantOfShape',
      [b.concatInts([[1, 1], b.shapeOf(x, 2)])],
      { value: { tensor: floatTensor('', [1], [1]) } },
      'ones',
    );
    // Real elements per window; ceil_mode's last windows reach past the end, where a stride − 1 more pad lets the convolution see them.
    const endPads = pads.map((p, i) => (i >= spatial && ceil ? p + w.strides[i - spatial]! - 1 : p));
    let real = b.op('Conv', [ones, kernelOnes], { ...attrs, pads: endPads }, 'window_counts');
    if (ceil) real = b.op('Slice', [real, b.int64s(axes.map(() => 0)), b.shapeOf(y, 2), b.int64s(axes)]);
    scale = includePad
      ? b.op('Div', [
          b.op('AveragePool', [ones], {
            kernel_shape: w.kernel,
            strides: w.strides,
            ...(w.dilations.some((d) => d !== 1) ? { dilations: w.dilations } : {}),
            pads,
            ceil_mode: 1,
            count_include_pad: 1,
          }),
          real,
        ])
      : b.op('Reciprocal', [real]);
  }
  const share = b.op('Mul', [c.dy[0]!, scale], {}, 'averagepool_share');
  const yDims = c.shape(y)?.slice(2);
  const folded = b.reshape(share, isStatic(yDims) ? [-1, 1, ...yDims] : b.concatInts([[-1, 1], b.shapeOf(y, 2)]));
  const fitted = transposeOnto(b, folded, kernelOnes, attrs, pads.slice(0, spatial), x, c.shape(x)?.slice(2), yDims);
  return [b.reshape(fitted, dimsOf(c, x))];
}

/** Pooling: MaxPool (with or without its Indices output), AveragePool, GlobalAveragePool, GlobalMaxPool. */
export const poolingRules = {
  MaxPool: { differentiable: [0], shape: poolShape, grad: maxPoolGrad },
  AveragePool: { differentiable: [0], shape: poolShape, grad: averagePoolGrad },
  GlobalAveragePool: {
    differentiable: [0],
    shape: globalShape,
    grad(c) {
      const b = c.b;
      const x = c.x[0]!;
      const spatial = productDim(c.shape(x)?.slice(2) ?? [undefined]);
      const inverse =
        typeof spatial === 'number'
          ? b.scalar(1 / spatial)
          : b.op('Div', [b.toFloat(b.op('Size', [c.y[0]!])), b.toFloat(b.op('Size', [x]))]);
      return [b.op('Mul', [b.op('Expand', [c.dy[0]!, dimsOf(c, x)]), inverse], {}, 'globalaveragepool_grad')];
    },
  },
  GlobalMaxPool: {
    differentiable: [0],
    shape: globalShape,
    grad(c) {
      // To the max of each channel; ties share it evenly.
      const b = c.b;
      const x = c.x[0]!;
      const axes = Array.from({ length: c.rank(x) - 2 }, (_, i) => i + 2);
      const mask = b.toFloat(b.op('Equal', [x, c.y[0]!]));
      return [b.op('Mul', [mask, b.op('Div', [c.dy[0]!, b.reduceSum(mask, axes, true)])], {}, 'globalmaxpool_grad')];
    },
  },
} satisfies Record<string, OperatorRule>;
