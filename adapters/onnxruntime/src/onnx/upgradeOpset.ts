import { GradpipeError } from '@gradpipe/core';
import type { AttributeValue } from './GraphBuilder.js';
import { GraphBuilder, makeAttribute } from './GraphBuilder.js';
import { namesIn, subgraphsOf } from './graphNames.js';
import type { OnnxNs } from './onnxProto.js';
import { intsAttribute, onnx, onnxOpset, toNumber } from './onnxProto.js';

/** The opset the differentiator works in: every rule is written once, against these operator forms. */
export const TARGET_OPSET = 17;

/** The oldest opset a model may have. */
export const OLDEST_OPSET = 9;

/**
 * Upgrades a model, in place, to ai.onnx opset {@link TARGET_OPSET} (models at 17 or later are left as they
 * are), the way ONNX's version converter does for the operators whose form changed since opset 9: attributes
 * that became inputs (Squeeze, Unsqueeze, ReduceSum, Split, Clip, Pad, Slice, TopK), Softmax's "flatten from
 * the axis" meaning before 13, Dropout's ratio, BatchNormalization's training outputs before 14, Resize's and
 * RoiAlign's changed defaults. Every other operator means the same at 17. Subgraphs are upgraded too.
 *
 * Only the training graph is upgraded: the model the trainer predicts with and exports keeps its own opset.
 */
export function upgradeOpset(fn: string, model: OnnxNs.ModelProto): number {
  const from = onnxOpset(model);
  if (from < OLDEST_OPSET) throw new GradpipeError(fn, `needs an ai.onnx opset of at least ${OLDEST_OPSET}, the model has ${from}`);
  if (from >= TARGET_OPSET) return from;
  const root = new GraphBuilder(TARGET_OPSET, namesIn(model.graph!), 'gradpipe/upgrade');
  const consumed = consumedNames(model.graph!);
  upgradeGraph(fn, model.graph!, from, root, root, consumed);
  model.graph!.initializer = [...(model.graph!.initializer ?? []), ...root.initializers];
  model.opsetImport = [
    ...(model.opsetImport ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx'),
    onnx.OperatorSetIdProto.create({ domain: '', version: TARGET_OPSET }),
  ];
  // Opset 17 needs IR version 8.
  if (toNumber(model.irVersion) < 8) model.irVersion = 8;
  return TARGET_OPSET;
}

/** The values some node (or subgraph) reads, or the graph returns. */
function consumedNames(graph: OnnxNs.IGraphProto, into = new Set<string>()): Set<string> {
  for (const o of graph.output ?? []) if (o.name) into.add(o.name);
  for (const n of graph.node ?? []) {
    for (const i of n.input ?? []) if (i) into.add(i);
    for (const g of subgraphsOf(n)) consumedNames(g, into);
  }
  return into;
}

function upgradeGraph(
  fn: string,
  graph: OnnxNs.IGraphProto,
  from: number,
  b: GraphBuilder,
  root: GraphBuilder,
  consumed: ReadonlySet<string>,
): void {
  const before = b.nodes.length;
  for (const node of graph.node ?? []) {
    for (const g of subgraphsOf(node)) upgradeGraph(fn, g, from, new GraphBuilder(TARGET_OPSET, root), root, consumed);
    upgradeNode(fn, node as OnnxNs.NodeProto, from, b, consumed);
  }
  graph.node = b.nodes.slice(before);
}

/** Removes an attribute and returns its ints, or undefined when it was absent. */
function takeInts(node: OnnxNs.NodeProto, name: string): number[] | undefined {
  const value = intsAttribute(node, name);
  node.attribute = node.attribute.filter((a) => a.name !== name);
  return value;
}

function takeFloat(node: OnnxNs.NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  node.attribute = node.attribute.filter((x) => x.name !== name);
  return a ? (a.f ?? 0) : undefined;
}

function setAttribute(node: OnnxNs.NodeProto, name: string, value: AttributeValue): void {
  node.attribute = [...node.attribute.filter((a) => a.name !== name), makeAttribute(name, value)];
}

/** Moves an ints attribute to input `index` (an int64 constant), when present. */
function attributeToInput(node: OnnxNs.NodeProto, name: string, index: number, b: GraphBuilder): void {
  const values = takeInts(node, name);
  if (values === undefined) return;
  while (node.input.length < index) node.input.push('');
  node.input[index] = b.int64s(values);
}

function upgradeNode(fn: string, node: OnnxNs.NodeProto, from: number, b: GraphBuilder, consumed: ReadonlySet<string>): void {
  const op = node.opType;
  if (node.domain && node.domain !== 'ai.onnx') {
    b.nodes.push(node);
    return;
  }
  const refuse = (why: string): never => {
    throw new GradpipeError(fn, `node ${JSON.stringify(node.name || node.output[0])} (${op}): ${why}`);
  };
  if (from < 10 && op === 'Slice') {
    // Slice-1: starts, ends, axes attributes → inputs
    const starts = takeInts(node, 'starts') ?? [];
    const ends = takeInts(node, 'ends') ?? [];
    const axes = takeInts(node, 'axes');
    node.input = [node.input[0]!, b.int64s(starts), b.int64s(ends), ...(axes ? [b.int64s(axes)] : [])];
  }
  if (from < 10 && op === 'TopK') {
    const k = node.attribute.find((a) => a.name === 'k');
    node.attribute = node.attribute.filter((a) => a.name !== 'k');
    node.input = [node.input[0]!, b.int64s([toNumber(k?.i)])];
  }
  if (from < 10 && op === 'Upsample') refuse('Upsample was deprecated in opset 10; re-export the model with opset 11 or later (Resize)');
  if (from < 11 && op === 'Scatter') node.opType = 'ScatterElements';
  if (from < 11 && op === 'Clip') {
    const min = takeFloat(node, 'min');
    const max = takeFloat(node, 'max');
    node.input = [node.input[0]!, min === undefined ? '' : b.scalar(min), ...(max === undefined ? [] : [b.scalar(max)])];
  }
  if (from < 11 && op === 'Pad') {
    const pads = takeInts(node, 'pads') ?? [];
    const value = takeFloat(node, 'value');
    node.input = [node.input[0]!, b.int64s(pads), ...(value ? [b.scalar(value)] : [])];
  }
  if (from < 11 && op === 'Resize') {
    // Resize-10 had the asymmetric coordinate transform (and floor rounding for nearest) built in.
    node.input = [node.input[0]!, '', node.input[1]!];
    setAttribute(node, 'coordinate_transformation_mode', { string: 'asymmetric' });
    setAttribute(node, 'nearest_mode', { string: 'floor' });
  }
  if (from < 12 && op === 'Dropout') {
    // Before 12 a model's Dropout is the inference form: the ratio attribute does nothing.
    takeFloat(node, 'ratio');
    node.input = [node.input[0]!];
  }
  if (from < 13 && (op === 'Squeeze' || op === 'Unsqueeze' || op === 'ReduceSum')) attributeToInput(node, 'axes', 1, b);
  if (from < 13 && op === 'Split') attributeToInput(node, 'split', 1, b);
  if (from < 13 && (op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax')) {
    // Before 13: the input is flattened to 2-D at `axis` (default 1) and normalized over the second dim.
    const axis = toNumber(node.attribute.find((a) => a.name === 'axis')?.i ?? 1);
    const x = node.input[0]!;
    const flat = b.op('Flatten', [x], { axis }, 'softmax_flatten');
    const normalized = b.op(op, [flat], { axis: 1 }, op.toLowerCase());
    b.node('Reshape', [normalized, b.op('Shape', [x])], [node.output[0]!]);
    return;
  }
  if (from < 14 && op === 'BatchNormalization') {
    // Before 14 training was told by the optional outputs: running mean and var, then the saved statistics.
    const used = node.output.filter(Boolean).length;
    if (used > 1) {
      if (consumed.has(node.output[3] ?? '') || consumed.has(node.output[4] ?? '')) {
        refuse(
          'a model that reads the saved_mean or saved_var outputs of BatchNormalization is not supported (they are gone from opset 14)',
        );
      }
      setAttribute(node, 'training_mode', 1);
      node.output = node.output.slice(0, 3);
    } else {
      node.output = node.output.slice(0, 1);
    }
    node.attribute = node.attribute.filter((a) => a.name !== 'spatial' && a.name !== 'consumed_inputs');
  }
  if (from < 16 && op === 'RoiAlign' && !node.attribute.some((a) => a.name === 'coordinate_transformation_mode')) {
    setAttribute(node, 'coordinate_transformation_mode', { string: 'output_half_pixel' });
  }
  b.nodes.push(node);
}
