import type { OnnxNs } from './onnxProto.js';
import { DataType, floatTensor, int64Tensor, onnx } from './onnxProto.js';

/**
 * An attribute value: a number is an int, an array of numbers `ints`; the objects name the other kinds.
 */
export type AttributeValue =
  | number
  | number[]
  | { float: number }
  | { floats: number[] }
  | { string: string }
  | { strings: string[] }
  | { tensor: OnnxNs.ITensorProto }
  | { graph: OnnxNs.IGraphProto };

/** Names that are taken in a model, shared by a graph's builder and the builders of its subgraphs. */
class Names {
  private counter = 0;
  constructor(
    readonly taken: Set<string>,
    readonly prefix: string,
  ) {}

  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }
}

/**
 * Appends nodes and constants to a graph under construction, with fresh names that cannot collide with the
 * model's own, and emits operators in the forms of the graph's opset (at least 17: the differentiator upgrades
 * older models first, so only the Reduce family still changes form, at 18).
 */
export class GraphBuilder {
  readonly nodes: OnnxNs.NodeProto[] = [];
  private readonly names: Names;
  private readonly root: GraphBuilder;
  private readonly ownInitializers: OnnxNs.TensorProto[] = [];
  private readonly constants = new Map<string, string>();
  /** Outputs of reshapes made by {@link reshape}, to what they reshape. */
  private readonly reshapes = new Map<string, string>();

  constructor(
    /** The graph's ai.onnx opset version. */
    readonly opset: number,
    /** Every name already used in the model (values and nodes); new names avoid these. */
    taken: Set<string> | GraphBuilder,
    prefix = 'gradpipe',
  ) {
    if (taken instanceof GraphBuilder) {
      this.names = taken.names;
      this.root = taken.root;
    } else {
      this.names = new Names(taken, prefix);
      this.root = this;
    }
  }

  /** Constants made by this builder and its subgraph builders (they live in the outer graph). */
  get initializers(): readonly OnnxNs.TensorProto[] {
    return this.root.ownInitializers;
  }

  /** A name not used anywhere in the model, e.g. `gradpipe/relu_grad_3`. */
  fresh(hint: string): string {
    return this.names.fresh(hint);
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, hint = opType.toLowerCase()): string {
    return this.ops(opType, inputs, 1, attributes, hint)[0]!;
  }

  /** Adds a node with `outputs` outputs and returns their names. */
  ops(
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attributes: Record<string, AttributeValue> = {},
    hint = opType.toLowerCase(),
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(hint));
    this.node(opType, inputs, names, attributes);
    return names;
  }

  /** Adds a node with the given output names. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeValue> = {}): void {
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: `${outputs[0]}:node`,
        input: [...inputs],
        output: [...outputs],
        attribute: Object.entries(attributes).map(([name, value]) => makeAttribute(name, value)),
      }),
    );
  }

  /** A float32 scalar constant (shared between uses). */
  scalar(value: number): string {
    return this.constant(`f:${value}`, () => floatTensor('', [], [value]), 'const');
  }

  /** A float32 constant with these dims and values. */
  floats(dims: readonly number[], values: ArrayLike<number>): string {
    return this.constant(`fs:${dims.join(',')}:${Array.from(values).join(',')}`, () => floatTensor('', dims, values), 'const');
  }

  /** A float32 constant of zeros with these dims. */
  zeros(dims: readonly number[]): string {
    return this.constant(`z:${dims.join(',')}`, () => floatTensor('', dims, new Float32Array(dims.reduce((a, b) => a * b, 1))), 'zeros');
  }

  /** A 1-D int64 constant. */
  int64s(values: readonly number[]): string {
    return this.constant(`i:${values.join(',')}`, () => int64Tensor('', [values.length], values), 'ints');
  }

  /** A 0-D int64 constant. */
  int64(value: number): string {
    return this.constant(`i0:${value}`, () => int64Tensor('', [], [value]), 'int');
  }

  /** `Reduce<kind>(x)` over `axes` (every axis when undefined) in the form the opset requires. */
  reduce(kind: string, x: string, axes: readonly number[] | undefined, keepdims: boolean): string {
    const op = `Reduce${kind}`;
    const keep = { keepdims: keepdims ? 1 : 0 };
    if (axes === undefined) return this.op(op, [x], keep, op.toLowerCase());
    const asInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    return asInput
      ? this.op(op, [x, this.int64s(axes)], keep, op.toLowerCase())
      : this.op(op, [x], { ...keep, axes: [...axes] }, op.toLowerCase());
  }

  /** `ReduceSum(x)` over `axes`. */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.reduce('Sum', x, axes, keepdims);
  }

  /** `ReduceSum` over every axis, to a scalar. */
  sumAll(x: string): string {
    return this.reduce('Sum', x, undefined, false);
  }

  /** Adds several gradient contributions. */
  sum(terms: readonly string[]): string {
    if (terms.length === 1) return terms[0]!;
    return this.op('Sum', terms, {}, 'accumulate');
  }

  /** `Squeeze(x, axes)`. */
  squeeze(x: string, axes: readonly number[]): string {
    return this.op('Squeeze', [x, this.int64s(axes)]);
  }

  /** `Unsqueeze(x, axes)`. */
  unsqueeze(x: string, axes: readonly number[]): string {
    return this.op('Unsqueeze', [x, this.int64s(axes)]);
  }

  /** `Split(x)` into `parts` equal parts along `axis` (num_outputs is an attribute only from opset 18). */
  split(x: string, axis: number, parts: number, hint = 'split'): string[] {
    return this.ops('Split', [x], parts, { axis, ...(this.opset >= 18 ? { num_outputs: parts } : {}) }, hint);
  }

  /** `Shape(x)`, or the dims `[start, end)` of it. */
  shapeOf(x: string, start?: number, end?: number): string {
    const attributes: Record<string, AttributeValue> = {};
    if (start !== undefined) attributes.start = start;
    if (end !== undefined) attributes.end = end;
    return this.op('Shape', [x], attributes, 'shape');
  }

  /**
   * `Reshape(x, shape)` with a shape value or a list of static dims. A reshape of a reshape this builder made
   * reshapes the original instead: one node fewer, and it keeps clear of an ONNX Runtime optimizer bug on
   * chains of reshapes to computed shapes.
   */
  reshape(x: string, shape: string | readonly number[]): string {
    const producer = this.reshapes.get(x);
    const out = this.op('Reshape', [producer ?? x, typeof shape === 'string' ? shape : this.int64s(shape)], {}, 'reshape');
    this.reshapes.set(out, producer ?? x);
    return out;
  }

  /** `Transpose(x, perm)`, or x itself for the identity permutation. */
  transpose(x: string, perm: readonly number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm: [...perm] }, 'transpose');
  }

  /** `Slice(x, starts, ends, axes, steps)` with constant bounds. */
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string {
    const inputs = [x, this.int64s(starts), this.int64s(ends), this.int64s(axes)];
    if (steps) inputs.push(this.int64s(steps));
    return this.op('Slice', inputs, {}, 'slice');
  }

  /** The 1-D int64 concatenation of shape pieces: value names, or static dims. */
  concatInts(parts: readonly (string | readonly number[])[]): string {
    const named = parts.filter((p) => p.length > 0 || typeof p === 'string').map((p) => (typeof p === 'string' ? p : this.int64s(p)));
    if (named.length === 1) return named[0]!;
    return this.op('Concat', named, { axis: 0 }, 'dims');
  }

  /** Zeros shaped like the value `like`, of float32 type. */
  zerosLike(like: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(like)], { value: { tensor: floatTensor('', [1], [0]) } }, 'zeros');
  }

  /** `Cast(x, to)`. */
  cast(x: string, to: number): string {
    return this.op('Cast', [x], { to }, 'cast');
  }

  /** Elements of `x` as float32 (for counts computed from shapes). */
  toFloat(x: string): string {
    return this.cast(x, DataType.FLOAT);
  }

  /**
   * A subgraph (for Scan, Loop or If) built by `body`, which returns the subgraph's outputs. Inputs are declared
   * with their element types; values of the outer graph may be used inside by name.
   */
  subgraph(
    hint: string,
    inputs: readonly { name: string; type: number }[],
    body: (sub: GraphBuilder) => readonly { name: string; type: number }[],
  ): OnnxNs.GraphProto {
    const sub = new GraphBuilder(this.opset, this);
    const outputs = body(sub);
    // A subgraph output must be produced inside the subgraph, and each output is its own value: outer values,
    // inputs and a value returned twice (a Scan's state that is also its output) pass through an Identity.
    const produced = new Set(sub.nodes.flatMap((n) => n.output));
    const returned = new Set<string>();
    const finalOutputs = outputs.map((o) => {
      const own = produced.has(o.name) && !returned.has(o.name);
      returned.add(o.name);
      return own ? o : { name: sub.op('Identity', [o.name], {}, 'passthrough'), type: o.type };
    });
    return onnx.GraphProto.create({
      name: this.fresh(hint),
      node: sub.nodes,
      input: inputs.map((i) => valueInfo(i.name, i.type)),
      output: finalOutputs.map((o) => valueInfo(o.name, o.type)),
    });
  }

  private constant(key: string, make: () => OnnxNs.TensorProto, hint: string): string {
    const root = this.root;
    const known = root.constants.get(key);
    if (known) return known;
    const tensor = make();
    tensor.name = this.fresh(hint);
    root.ownInitializers.push(tensor);
    root.constants.set(key, tensor.name);
    return tensor.name;
  }
}

/** A typed value declaration (element type only, shape left open). */
export function valueInfo(name: string, elemType: number, dims?: readonly (number | string | undefined)[]): OnnxNs.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims
          ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } }
          : {}),
      },
    },
  });
}

/** An ONNX attribute from a name and a plain value. */
export function makeAttribute(name: string, value: AttributeValue): OnnxNs.AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  if ('floats' in value) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: value.floats });
  if ('string' in value) return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value.string) });
  if ('strings' in value)
    return onnx.AttributeProto.create({ name, type: T.STRINGS, strings: value.strings.map((s) => new TextEncoder().encode(s)) });
  if ('tensor' in value) return onnx.AttributeProto.create({ name, type: T.TENSOR, t: value.tensor });
  return onnx.AttributeProto.create({ name, type: T.GRAPH, g: value.graph });
}
