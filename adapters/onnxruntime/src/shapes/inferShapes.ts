import { NodeAttributes } from '../autodiff/NodeAttributes.js';
import type { OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { elementCount, readNumbers, toNumber } from '../onnx/onnxProto.js';
import type { Dim } from './Dim.js';
import { symbol } from './Dim.js';
import type { TensorInfo } from './TensorInfo.js';
import { MAX_TRACKED_VALUES, UNKNOWN } from './TensorInfo.js';

/** What a value info proto says: element type and shape, named dims as symbols. */
export function fromValueInfo(v: OnnxNs.IValueInfoProto): TensorInfo {
  const tensor = v.type?.tensorType;
  if (!tensor) return UNKNOWN;
  const shape = tensor.shape
    ? (tensor.shape.dim ?? []).map((d): Dim => {
        if (d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue) > 0) return toNumber(d.dimValue);
        return d.dimParam ? symbol(d.dimParam) : undefined;
      })
    : undefined;
  return { type: tensor.elemType ?? undefined, shape };
}

/** What an initializer (or a Constant's tensor) is: its type, dims and, when small, its values. */
export function fromTensor(t: OnnxNs.ITensorProto): TensorInfo {
  const shape = (t.dims ?? []).map((d) => toNumber(d));
  const value = elementCount(t) <= MAX_TRACKED_VALUES ? readNumbers(t) : undefined;
  return { type: t.dataType ?? undefined, shape, ...(value ? { value } : {}) };
}

/**
 * Infers what is known of every value of a graph before it runs — element types, shapes with symbolic dims,
 * and the contents of small integer tensors — from the graph inputs, initializers and value_info, and from
 * the shape rule of each operator. Facts the model states (value_info) fill in what the rules leave open.
 */
export function inferShapes(
  graph: OnnxNs.IGraphProto,
  opset: number,
  ruleOf: (opType: string) => OperatorRule | undefined,
  /** Constants not yet in the graph's initializers (a builder's). */
  constants: readonly OnnxNs.ITensorProto[] = [],
): Map<string, TensorInfo> {
  const known = new Map<string, TensorInfo>();
  const stated = new Map<string, TensorInfo>();
  for (const v of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) if (v.name) stated.set(v.name, fromValueInfo(v));
  for (const v of graph.input ?? []) if (v.name) known.set(v.name, fromValueInfo(v));
  for (const t of [...(graph.initializer ?? []), ...constants]) if (t.name) known.set(t.name, fromTensor(t));
  for (const node of graph.node ?? []) {
    const outputs = node.output ?? [];
    const rule = ruleOf(node.opType ?? '');
    const inferred = rule ? rule.shape(shapeContext(node as OnnxNs.NodeProto, opset, known)) : [];
    outputs.forEach((name, i) => {
      if (!name) return;
      known.set(name, merge(inferred[i] ?? UNKNOWN, stated.get(name) ?? UNKNOWN));
    });
  }
  return known;
}

/** The context a shape rule runs in. */
export function shapeContext(node: OnnxNs.NodeProto, opset: number, known: ReadonlyMap<string, TensorInfo>): ShapeContext {
  const inputs = node.input ?? [];
  return {
    node,
    opset,
    attr: new NodeAttributes(node),
    inputCount: inputs.length,
    outputCount: (node.output ?? []).length,
    has: (i) => !!inputs[i],
    input: (i) => (inputs[i] ? (known.get(inputs[i]!) ?? UNKNOWN) : UNKNOWN),
  };
}

/** Ours, with the gaps filled from what the model states; a static dim beats a symbolic one. */
function merge(ours: TensorInfo, stated: TensorInfo): TensorInfo {
  const type = ours.type ?? stated.type;
  let shape = ours.shape ?? stated.shape;
  if (ours.shape && stated.shape && ours.shape.length === stated.shape.length) {
    shape = ours.shape.map((d, i) =>
      typeof d === 'number' ? d : typeof stated.shape![i] === 'number' ? stated.shape![i] : (d ?? stated.shape![i]),
    );
  }
  return { type, shape, ...(ours.value ? { value: ours.value } : {}) };
}
