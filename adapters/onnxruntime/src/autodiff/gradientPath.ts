import type { OnnxNs } from '../onnx/onnxProto.js';
import { FLOAT_TYPES } from '../onnx/onnxProto.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import type { OperatorRule } from './OperatorRule.js';

/** The part of a graph that backpropagation walks. */
export interface GradientPath {
  /** Values that depend on a trainable parameter through differentiable inputs. */
  readonly dependsOnTrainable: ReadonlySet<string>;
  /** The nodes on a path from a trainable parameter to the loss, in graph order. */
  readonly nodes: readonly OnnxNs.NodeProto[];
  /** Nodes on that path whose operator has no gradient rule, in graph order. */
  readonly missing: readonly OnnxNs.NodeProto[];
}

/**
 * The nodes a gradient must flow back through: those with an input that depends on a trainable parameter and
 * an output the loss depends on. An operator without a rule counts every input as differentiable, so that a
 * gap on the path is found (and named) before anything is built, never blamed on a later node.
 */
export function gradientPath(
  nodes: readonly OnnxNs.NodeProto[],
  trainable: ReadonlySet<string>,
  loss: string,
  ruleOf: (node: OnnxNs.NodeProto) => OperatorRule | undefined,
  infoOf: (name: string) => TensorInfo,
): GradientPath {
  const differentiable = (node: OnnxNs.NodeProto): string[] => {
    const rule = ruleOf(node);
    const names = rule ? rule.differentiable.map((i) => node.input[i] ?? '') : node.input;
    return names.filter((n) => n !== '');
  };
  // Forward: values that depend on a trainable. Integer and boolean results carry no gradient.
  const depends = new Set(trainable);
  for (const node of nodes) {
    if (!differentiable(node).some((i) => depends.has(i))) continue;
    for (const o of node.output) {
      const type = infoOf(o).type;
      if (o && (type === undefined || FLOAT_TYPES.has(type))) depends.add(o);
    }
  }
  // Backward: values the loss depends on through differentiable inputs.
  const reaches = new Set([loss]);
  const onPath: OnnxNs.NodeProto[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    if (!node.output.some((o) => o && reaches.has(o) && depends.has(o))) continue;
    const inputs = differentiable(node).filter((i) => depends.has(i));
    if (inputs.length === 0) continue;
    onPath.push(node);
    inputs.forEach((i) => reaches.add(i));
  }
  onPath.reverse();
  return { dependsOnTrainable: depends, nodes: onPath, missing: onPath.filter((n) => !ruleOf(n)) };
}

/**
 * `no gradient rule for NonMaxSuppression (node "/nms"), RoiAlign (nodes "/roi1", "/roi2")`: every operator
 * on the gradient path that has no rule, with its nodes, in one message.
 */
export function missingRulesMessage(missing: readonly OnnxNs.NodeProto[]): string {
  const byOp = new Map<string, string[]>();
  for (const node of missing) {
    const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
    byOp.set(op, [...(byOp.get(op) ?? []), JSON.stringify(node.name || `(unnamed, output ${node.output[0]})`)]);
  }
  const parts = [...byOp].map(([op, names]) => `${op} (${names.length === 1 ? 'node' : 'nodes'} ${names.join(', ')})`);
  return `no gradient rule for ${parts.join(', ')}`;
}
