import type { OnnxNs } from '../onnx/onnxProto.js';
import { activationRules } from '../operators/activations.js';
import { convolutionRules } from '../operators/convolution.js';
import { dropoutRules } from '../operators/dropout.js';
import { elementwiseRules } from '../operators/elementwise.js';
import { indexingRules } from '../operators/indexing.js';
import { linearAlgebraRules } from '../operators/linearAlgebra.js';
import { nonDifferentiableRules } from '../operators/nonDifferentiable.js';
import { normalizationRules } from '../operators/normalization.js';
import { poolingRules } from '../operators/pooling.js';
import { recurrentRules } from '../operators/recurrent/recurrentRules.js';
import { reductionRules } from '../operators/reductions.js';
import { shapeOpRules } from '../operators/shapeOps.js';
import { softmaxRules } from '../operators/softmax.js';
import type { OperatorRule } from './OperatorRule.js';

/** The operator families, as the docs list them. */
export const OPERATOR_FAMILIES: Readonly<Record<string, Readonly<Record<string, OperatorRule>>>> = {
  'linear algebra': linearAlgebraRules,
  convolution: convolutionRules,
  pooling: poolingRules,
  normalization: normalizationRules,
  recurrent: recurrentRules,
  'element-wise math': elementwiseRules,
  activations: activationRules,
  softmax: softmaxRules,
  reductions: reductionRules,
  'shape and copying': shapeOpRules,
  'indexing and selection': indexingRules,
  dropout: dropoutRules,
  'no gradient (shapes, comparisons, rounding)': nonDifferentiableRules,
};

/** Every ai.onnx operator the differentiator knows, by op type (own keys only: "constructor" is no operator). */
export const OPERATORS: ReadonlyMap<string, OperatorRule> = (() => {
  const all = new Map<string, OperatorRule>();
  for (const [family, rules] of Object.entries(OPERATOR_FAMILIES)) {
    for (const [op, rule] of Object.entries(rules)) {
      if (all.has(op)) throw new Error(`operator ${op} is registered twice (again in ${family})`);
      if (rule.differentiable.length > 0 && !rule.grad) throw new Error(`operator ${op} has differentiable inputs but no gradient rule`);
      all.set(op, rule);
    }
  }
  return all;
})();

/** The rule of a node's operator; none for other domains (contrib operators) or unknown operators. */
export function operatorRule(node: OnnxNs.INodeProto): OperatorRule | undefined {
  if (node.domain && node.domain !== 'ai.onnx') return undefined;
  return OPERATORS.get(node.opType ?? '');
}

/** The operators a gradient flows through (the rest only have shape rules). */
export function differentiableOperators(): string[] {
  return [...OPERATORS].filter(([, rule]) => rule.differentiable.length > 0).map(([op]) => op);
}
