import { GradpipeError } from '@gradpipe/core';
import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import type { GradientPath } from './gradientPath.js';
import { NodeAttributes } from './NodeAttributes.js';
import type { GradientContext, OperatorRule } from './OperatorRule.js';

/** The clear error for a node the differentiator cannot handle. */
export function nodeError(fn: string, node: OnnxNs.INodeProto, message: string): GradpipeError {
  return new GradpipeError(fn, `cannot differentiate node ${JSON.stringify(node.name || '(unnamed)')} (op ${node.opType}): ${message}`);
}

/**
 * Reverse-mode differentiation along a gradient path, from d(loss)/d(loss output): visits the path's nodes in
 * reverse graph order, sums the gradient contributions arriving at each output, and asks the node's rule for
 * its inputs' gradients. Returns the gradient of every trainable parameter the loss depends on.
 */
export function differentiate(
  fn: string,
  b: GraphBuilder,
  path: GradientPath,
  ruleOf: (node: OnnxNs.NodeProto) => OperatorRule,
  infoOf: (name: string) => TensorInfo,
  seed: { value: string; grad: string },
  trainable: readonly string[],
): Map<string, string> {
  const contributions = new Map<string, string[]>([[seed.value, [seed.grad]]]);
  const gradientOf = (name: string): string | undefined => {
    const list = contributions.get(name);
    if (!list) return undefined;
    const total = b.sum(list);
    contributions.set(name, [total]); // summed once, however many times it is read
    return total;
  };
  for (let k = path.nodes.length - 1; k >= 0; k--) {
    const node = path.nodes[k]!;
    const dy = node.output.map((o) => (o ? gradientOf(o) : undefined));
    if (!dy.some(Boolean)) continue;
    const rule = ruleOf(node);
    const fail = (message: string): never => {
      throw nodeError(fn, node, message);
    };
    const ctx: GradientContext = {
      b,
      node,
      attr: new NodeAttributes(node),
      x: node.input,
      y: node.output,
      dy,
      needs: (i) => rule.differentiable.includes(i) && !!node.input[i] && path.dependsOnTrainable.has(node.input[i]!),
      info: infoOf,
      shape: (name) => infoOf(name).shape,
      rank: (name) => infoOf(name).shape?.length ?? fail(`needs the rank of ${JSON.stringify(name)}, which is unknown`),
      output: (i) => {
        if (!node.output[i]) {
          while (node.output.length <= i) node.output.push('');
          node.output[i] = b.fresh(`${node.opType.toLowerCase()}_output${i}`);
        }
        return node.output[i]!;
      },
      fail,
    };
    const grads = rule.grad!(ctx);
    grads.forEach((g, i) => {
      const name = node.input[i];
      if (!g || !name || !ctx.needs(i)) return;
      contributions.set(name, [...(contributions.get(name) ?? []), g]);
    });
  }
  const result = new Map<string, string>();
  for (const name of trainable) {
    const g = gradientOf(name);
    if (g) result.set(name, g);
  }
  return result;
}
