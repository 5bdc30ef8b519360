import { onnx, floatTensor, int64Tensor } from './onnxProto.js';
import type { OnnxNs } from './onnxProto.js';

/** An attribute value: a number is an int unless listed in `floats`; arrays of ints become `ints`. */
export type AttributeValue = number | number[] | { float: number };

/**
 * Appends nodes and constants to a graph under construction, with fresh names that cannot collide with the
 * model's own, and emits the opset-dependent forms of operators (ReduceSum's axes moved from an attribute to
 * an input in opset 13).
 */
export class GraphBuilder {
  readonly nodes: OnnxNs.NodeProto[] = [];
  readonly initializers: OnnxNs.TensorProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(
    /** The model's ai.onnx opset version. */
    readonly opset: number,
    /** Every name already used in the model (values and nodes); new names avoid these. */
    private readonly taken: Set<string>,
    private readonly prefix = 'gradpipe',
  ) {}

  /** A name not used anywhere in the model, e.g. `gradpipe/relu_grad_3`. */
  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, hint = opType.toLowerCase()): string {
    const output = this.fresh(hint);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: `${output}:node`,
        input: [...inputs],
        output: [output],
        attribute: Object.entries(attributes).map(([name, value]) => makeAttribute(name, value)),
      }),
    );
    return output;
  }

  /** A float32 scalar constant (shared between uses). */
  scalar(value: number): string {
    return this.constant(`f:${value}`, () => floatTensor('', [], [value]), 'const');
  }

  /** A float32 tensor constant of zeros with this shape. */
  zeros(dims: readonly number[]): string {
    return this.constant(`z:${dims.join(',')}`, () => floatTensor('', dims, new Float32Array(dims.reduce((a, b) => a * b, 1))), 'zeros');
  }

  /** A 1-D float32 constant. */
  constantFloats(values: readonly number[]): string {
    return this.constant(`fs:${values.join(',')}`, () => floatTensor('', [values.length], values), 'const');
  }

  /** A 1-D int64 constant. */
  int64s(values: readonly number[]): string {
    return this.constant(`i:${values.join(',')}`, () => int64Tensor('', [values.length], values), 'shape');
  }

  /** `ReduceSum(x)` over `axes` in the form the opset requires. */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    if (this.opset >= 13) return this.op('ReduceSum', [x, this.int64s(axes)], { keepdims: keepdims ? 1 : 0 }, 'reducesum');
    return this.op('ReduceSum', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 }, 'reducesum');
  }

  /** `ReduceSum` over every axis, to a scalar. */
  sumAll(x: string): string {
    // No axes means "all axes" in every opset (noop_with_empty_axes defaults to 0).
    return this.op('ReduceSum', [x], { keepdims: 0 }, 'sum');
  }

  /** Adds several gradient contributions. */
  sum(terms: readonly string[]): string {
    if (terms.length === 1) return terms[0]!;
    return this.op('Sum', terms, {}, 'accumulate');
  }

  private constant(key: string, make: () => OnnxNs.TensorProto, hint: string): string {
    const known = this.constants.get(key);
    if (known) return known;
    const tensor = make();
    tensor.name = this.fresh(hint);
    this.initializers.push(tensor);
    this.constants.set(key, tensor.name);
    return tensor.name;
  }
}

/** An ONNX attribute from a name and a plain value. */
export function makeAttribute(name: string, value: AttributeValue): OnnxNs.AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
}
