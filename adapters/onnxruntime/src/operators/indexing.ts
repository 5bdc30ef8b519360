import type { GradientContext, OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import { floatTensor } from '../onnx/onnxProto.js';
import type { Dim } from '../shapes/Dim.js';
import { addDim } from '../shapes/Dim.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import { broadcastShapes, normalizeAxis } from '../shapes/TensorInfo.js';
import { dimsOf, zerosLike } from './support/dims.js';
import { nonNegativeIndices, scatterBackThroughPositions } from './support/scatter.js';
import { unbroadcast } from './support/sumToShape.js';

/** Which positions `Slice` takes on one axis of static size `size`, with ONNX's clamping rules. */
export function sliceRange(size: number, start: number, end: number, step: number): { start: number; count: number } {
  if (start < 0) start += size;
  if (end < 0) end += size;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), size);
    end = Math.min(Math.max(end, 0), size);
  } else {
    start = Math.min(Math.max(start, 0), size - 1);
    end = Math.min(Math.max(end, -1), size - 1);
  }
  return { start, count: Math.max(0, Math.ceil((end - start) / step)) };
}

/** Slice's bounds when every one of them is a known constant. */
function sliceBounds(info: (i: number) => TensorInfo, given: (i: number) => boolean, rank: number) {
  const read = (i: number) => (given(i) ? info(i).value : undefined);
  const starts = read(1);
  const ends = read(2);
  if (!starts || !ends || starts.some((v) => typeof v !== 'number') || ends.some((v) => typeof v !== 'number')) return undefined;
  const axes = given(3) ? read(3) : starts.map((_, i) => i);
  const steps = given(4) ? read(4) : starts.map(() => 1);
  if (!axes || !steps || axes.some((v) => typeof v !== 'number') || steps.some((v) => typeof v !== 'number')) return undefined;
  return (starts as number[]).map((start, i) => ({
    axis: normalizeAxis(axes[i] as number, rank),
    start,
    end: ends[i] as number,
    step: steps[i] as number,
  }));
}

/** A slice that keeps a whole axis whatever its size (start 0, end past it, step 1). */
const keepsAll = (s: { start: number; end: number; step: number }) => s.start === 0 && s.step === 1 && s.end >= 2 ** 31 - 1;

function sliceShape(c: ShapeContext): TensorInfo[] {
  const x = c.input(0);
  if (!x.shape) return [{ type: x.type }];
  const bounds = sliceBounds(
    (i) => c.input(i),
    (i) => c.has(i),
    x.shape.length,
  );
  if (!bounds) return [{ type: x.type, shape: x.shape.map(() => undefined) }];
  const shape: Dim[] = [...x.shape];
  for (const s of bounds) {
    const size = x.shape[s.axis];
    if (typeof size === 'number') shape[s.axis] = sliceRange(size, s.start, s.end, s.step).count;
    else if (!keepsAll(s)) shape[s.axis] = undefined;
  }
  // The contents of a sliced 1-D constant (shape computations: Shape → Slice).
  let value: Dim[] | undefined;
  if (x.value && x.shape.length === 1 && bounds.length === 1) {
    const r = sliceRange(x.value.length, bounds[0]!.start, bounds[0]!.end, bounds[0]!.step);
    value = Array.from({ length: r.count }, (_, i) => x.value![r.start + i * bounds[0]!.step]);
  }
  return [{ type: x.type, shape, ...(value ? { value } : {}) }];
}

function sliceGrad(c: GradientContext): (string | undefined)[] {
  const [x, dy] = [c.x[0]!, c.dy[0]!];
  const shape = c.shape(x);
  const bounds =
    shape &&
    sliceBounds(
      (i) => c.info(c.x[i] ?? ''),
      (i) => !!c.x[i],
      shape.length,
    );
  // Steps of 1 on axes of known size (or kept whole): the gradient is dy padded back with zeros.
  if (shape && bounds?.every((s) => s.step === 1 && (typeof shape[s.axis] === 'number' || keepsAll(s)))) {
    const pads = new Array<number>(2 * shape.length).fill(0);
    for (const s of bounds) {
      const size = shape[s.axis];
      if (typeof size !== 'number') continue;
      const r = sliceRange(size, s.start, s.end, s.step);
      pads[s.axis] = r.start;
      pads[shape.length + s.axis] = size - r.start - r.count;
    }
    return [pads.every((p) => p === 0) ? dy : c.b.op('Pad', [dy, c.b.int64s(pads)], {}, 'slice_grad')];
  }
  // Anything else — computed bounds, negative or larger steps: scatter back through the positions.
  return [scatterBackThroughPositions(c, x, dy, (positions) => c.b.op('Slice', [positions, ...c.x.slice(1)]))];
}

/** Gather along `axis`: ScatterND with addition, so repeated indices (a word used twice) accumulate. */
function gatherGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const [data, indices] = [c.x[0]!, c.x[1]!];
  const rank = c.rank(data);
  const indexRank = c.rank(indices);
  const axis = normalizeAxis(c.attr.int('axis', 0), rank);
  const idx = b.unsqueeze(nonNegativeIndices(c, indices, data, axis), [-1]);
  // Bring the indexed axis of data (and the index dims of dy) to the front, where ScatterND works.
  const dataPerm = [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
  const outRank = rank - 1 + indexRank;
  const dyPerm = [
    ...Array.from({ length: indexRank }, (_, i) => axis + i),
    ...Array.from({ length: axis }, (_, i) => i),
    ...Array.from({ length: outRank - axis - indexRank }, (_, i) => axis + indexRank + i),
  ];
  const zeros =
    axis === 0
      ? zerosLike(c, data)
      : b.op('ConstantOfShape', [b.op('Gather', [dimsOf(c, data), b.int64s(dataPerm)], { axis: 0 })], {
          value: { tensor: floatTensor('', [1], [0]) },
        });
  const scattered = b.op('ScatterND', [zeros, idx, b.transpose(c.dy[0]!, dyPerm)], { reduction: { string: 'add' } }, 'gather_grad');
  const inverse: number[] = [];
  dataPerm.forEach((p, i) => (inverse[p] = i));
  return [b.transpose(scattered, inverse)];
}

/** Indexing and selection. */
export const indexingRules = {
  Gather: {
    differentiable: [0],
    shape(c) {
      const [data, indices] = [c.input(0), c.input(1)];
      if (!data.shape || !indices.shape) return [{ type: data.type }];
      const axis = normalizeAxis(c.attr.int('axis', 0), data.shape.length);
      const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
      // Shape computations: Gather(Shape(x), i) picks dims.
      let value: Dim[] | undefined;
      if (data.value && data.shape.length === 1 && indices.value?.every((i) => typeof i === 'number')) {
        value = (indices.value as number[]).map((i) => data.value![i < 0 ? i + data.value!.length : i]);
      }
      return [{ type: data.type, shape, ...(value ? { value } : {}) }];
    },
    grad: gatherGrad,
  },
  GatherElements: {
    differentiable: [0],
    shape: (c) => [{ type: c.input(0).type, shape: c.input(1).shape }],
    grad(c) {
      const [data, indices] = [c.x[0]!, c.x[1]!];
      const axis = normalizeAxis(c.attr.int('axis', 0), c.rank(data));
      const idx = nonNegativeIndices(c, indices, data, axis);
      return [
        c.b.op('ScatterElements', [zerosLike(c, data), idx, c.dy[0]!], { axis, reduction: { string: 'add' } }, 'gatherelements_grad'),
      ];
    },
  },
  Slice: { differentiable: [0], shape: sliceShape, grad: sliceGrad },
  Pad: {
    differentiable: [0],
    shape(c) {
      const x = c.input(0);
      const pads = c.input(1).value;
      if (!x.shape) return [{ type: x.type }];
      if (!pads) return [{ type: x.type, shape: x.shape.map(() => undefined) }];
      const rank = x.shape.length;
      const axes = c.has(3) ? c.input(3).value?.map((a) => normalizeAxis(a as number, rank)) : x.shape.map((_, i) => i);
      if (!axes) return [{ type: x.type, shape: x.shape.map(() => undefined) }];
      const shape = [...x.shape];
      axes.forEach((a, i) => (shape[a] = addDim(addDim(shape[a], pads[i]), pads[axes.length + i])));
      return [{ type: x.type, shape }];
    },
    grad(c) {
      const mode = c.attr.string('mode', 'constant');
      const [x, dy] = [c.x[0]!, c.dy[0]!];
      if (mode === 'constant') {
        // Pad with the negated pads crops what was added (and restores, as zeros, what a negative pad cropped).
        const pads = c.info(c.x[1]!).value;
        const negated = pads?.every((p) => typeof p === 'number') ? c.b.int64s(pads.map((p) => -(p as number))) : c.b.op('Neg', [c.x[1]!]);
        const inputs = [dy, negated, ...(c.x[3] ? ['', c.x[3]] : [])];
        return [c.b.op('Pad', inputs, {}, 'pad_grad')];
      }
      // reflect, edge, wrap: several outputs copy one input element; add them back where they came from.
      return [
        scatterBackThroughPositions(c, x, dy, (positions) =>
          c.b.op('Pad', [positions, c.x[1]!, '', ...(c.x[3] ? [c.x[3]] : [])], { mode: { string: mode } }),
        ),
      ];
    },
  },
  Where: {
    differentiable: [1, 2],
    shape(c) {
      const [cond, a, b] = [c.input(0), c.input(1), c.input(2)];
      let value: Dim[] | undefined;
      if (cond.value && a.value && b.value) {
        const n = Math.max(cond.value.length, a.value.length, b.value.length);
        const at = (v: readonly Dim[], i: number) => v[v.length === 1 ? 0 : i];
        if ([cond.value, a.value, b.value].every((v) => v.length === 1 || v.length === n)) {
          value = Array.from({ length: n }, (_, i) => (at(cond.value!, i) ? at(a.value!, i) : at(b.value!, i)));
        }
      }
      return [{ type: a.type ?? b.type, shape: broadcastShapes([cond.shape, a.shape, b.shape]), ...(value ? { value } : {}) }];
    },
    grad(c) {
      const zero = c.b.scalar(0);
      const [cond, dy] = [c.x[0]!, c.dy[0]!];
      return [
        undefined,
        c.needs(1) ? unbroadcast(c, c.b.op('Where', [cond, dy, zero]), 1) : undefined,
        c.needs(2) ? unbroadcast(c, c.b.op('Where', [cond, zero, dy]), 2) : undefined,
      ];
    },
  },
} satisfies Record<string, OperatorRule>;
