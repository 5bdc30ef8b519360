import type { Dim } from './Dim.js';

/**
 * What is known of a value of the graph before it runs. Every field is optional: unknown is a normal state, and
 * gradient rules fall back to shapes computed at run time where a static fact is missing.
 */
export interface TensorInfo {
  /** The ONNX element type (`DataType`). */
  readonly type?: number | undefined;
  /** The shape; undefined when even the rank is unknown. */
  readonly shape?: readonly Dim[] | undefined;
  /**
   * The contents, flattened, for small constants and shape computations (`Shape` → `Gather` → `Concat` chains):
   * numbers, or symbolic dims for sizes that depend on the model's named dims.
   */
  readonly value?: readonly Dim[] | undefined;
}

/** Nothing known. */
export const UNKNOWN: TensorInfo = {};

/** The largest constant whose contents are tracked. */
export const MAX_TRACKED_VALUES = 64;

/** Multidirectional (numpy) broadcasting of shapes; undefined when a rank is unknown. */
export function broadcastShapes(shapes: readonly (readonly Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const known = shapes as readonly (readonly Dim[])[];
  const rank = Math.max(0, ...known.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = known.filter((s) => i >= rank - s.length).map((s) => s[i - (rank - s.length)]);
    const notOne = dims.filter((d) => d !== 1);
    if (notOne.length === 0) out.push(1);
    else if (notOne.some((d) => typeof d === 'number')) out.push(notOne.find((d) => typeof d === 'number'));
    else if (notOne.every((d) => d !== undefined && d === notOne[0])) out.push(notOne[0]);
    else out.push(undefined);
  }
  return out;
}

/** An axis in [0, rank) from one that may be negative. */
export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Whether every dim is a number. */
export function isStatic(shape: readonly Dim[] | undefined): shape is readonly number[] {
  return shape?.every((d) => typeof d === 'number') === true;
}
