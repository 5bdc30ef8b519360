import type { ShapeContext, ShapeRule } from '../../autodiff/OperatorRule.js';
import { DataType } from '../../onnx/onnxProto.js';
import type { Dim } from '../../shapes/Dim.js';
import { addDim, divDim, mulDim, subDim } from '../../shapes/Dim.js';
import type { TensorInfo } from '../../shapes/TensorInfo.js';
import { broadcastShapes, UNKNOWN } from '../../shapes/TensorInfo.js';

/** One output shaped and typed like input `i` (activations, unary math). */
export const likeInput =
  (i = 0): ShapeRule =>
  (c) => {
    const x = c.input(i);
    return [{ type: x.type, shape: x.shape }];
  };

/** Arithmetic on tracked contents (shape computations such as `batch * heads`). */
export type Arithmetic = 'add' | 'sub' | 'mul' | 'div';

const INTEGER_TYPES: ReadonlySet<number | undefined> = new Set([DataType.INT64, DataType.INT32]);

function arithmetic(op: Arithmetic, integer: boolean): (a: Dim, b: Dim) => Dim {
  switch (op) {
    case 'add':
      return addDim;
    case 'sub':
      return subDim;
    case 'mul':
      return mulDim;
    case 'div':
      // ONNX integer division truncates; a symbolic quotient is kept only when it divides exactly.
      return (a, b) => {
        if (typeof a === 'number' && typeof b === 'number') return integer ? Math.trunc(a / b) : a / b;
        return integer ? divDim(a, b) : undefined;
      };
  }
}

/** One output of the inputs' broadcast shape, typed like the first input; `op` combines tracked contents. */
export function broadcasting(op?: Arithmetic): ShapeRule {
  return (c) => {
    const inputs = Array.from({ length: c.inputCount }, (_, i) => c.input(i)).filter((_, i) => c.has(i));
    const shape = broadcastShapes(inputs.map((x) => x.shape));
    const type = inputs[0]?.type;
    const combined = op && inputs.length === 2 ? combineValues(inputs[0]!, inputs[1]!, arithmetic(op, INTEGER_TYPES.has(type))) : undefined;
    return [{ type, shape, ...(combined ? { value: combined } : {}) }];
  };
}

/** One boolean output of the inputs' broadcast shape (comparisons, logic). */
export const booleanBroadcasting: ShapeRule = (c) => {
  const inputs = Array.from({ length: c.inputCount }, (_, i) => c.input(i)).filter((_, i) => c.has(i));
  return [{ type: DataType.BOOL, shape: broadcastShapes(inputs.map((x) => x.shape)) }];
};

/** Element-wise combination of two tracked values, one of which may be a single element (broadcast). */
function combineValues(a: TensorInfo, b: TensorInfo, f: (a: Dim, b: Dim) => Dim): Dim[] | undefined {
  if (!a.value || !b.value) return undefined;
  const n = Math.max(a.value.length, b.value.length);
  if (a.value.length !== n && a.value.length !== 1) return undefined;
  if (b.value.length !== n && b.value.length !== 1) return undefined;
  return Array.from({ length: n }, (_, i) => f(a.value![a.value!.length === 1 ? 0 : i], b.value![b.value!.length === 1 ? 0 : i]));
}

/** Outputs of known types and unknown shapes. */
export function typedOutputs(...types: (number | undefined)[]): ShapeRule {
  return () => types.map((type) => (type === undefined ? UNKNOWN : { type }));
}

/** The input's type, whatever the rule says of shapes. */
export function withType(c: ShapeContext, i: number, shape: readonly Dim[] | undefined): TensorInfo {
  return { type: c.input(i).type, shape };
}
