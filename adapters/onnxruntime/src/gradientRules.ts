import { GradpipeError } from '@gradpipe/core';
import type { GraphBuilder } from './GraphBuilder.js';
import type { OnnxNs } from './onnxProto.js';
import { floatAttribute, intAttribute, intsAttribute } from './onnxProto.js';
import type { Dim, Shape } from './shapes.js';

/** What a gradient rule sees of the node it differentiates. */
export interface RuleContext {
  readonly b: GraphBuilder;
  readonly node: OnnxNs.INodeProto;
  /** Input names. */
  readonly x: readonly string[];
  /** Output names. */
  readonly y: readonly string[];
  /** The incoming gradient of output 0. */
  readonly dy: string;
  /** Whether input `i` needs a gradient. */
  needs(i: number): boolean;
  /** Static shape of a value. */
  shape(name: string): Shape;
  /** Throws a clear error about this node. */
  fail(message: string): never;
}

/** A reverse-mode rule: which inputs are differentiable, and their gradients given the output's. */
export interface GradientRule {
  /** Indices of the inputs a gradient can flow into (others are shapes, ratios, flags…). */
  readonly inputs: readonly number[];
  /** Gradient names for the inputs (undefined where none is needed). */
  grad(ctx: RuleContext): (string | undefined)[];
}

/** Operators whose outputs never carry a gradient (integer or boolean results). */
export const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'Constant', 'ConstantOfShape', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Not',
  'And', 'Or', 'Xor', 'Range', 'NonZero', 'ArgMax', 'ArgMin', 'OneHot',
]);

const passThrough: GradientRule = { inputs: [0], grad: (c) => [c.dy] };
const backToInputShape: GradientRule = {
  inputs: [0],
  grad: (c) => [c.b.op('Reshape', [c.dy, c.b.op('Shape', [c.x[0]!])], {}, 'reshape_grad')],
};

/** The supported operators, by ONNX op type. */
export const GRADIENT_RULES: Record<string, GradientRule> = {
  Identity: passThrough,
  Dropout: {
    inputs: [0],
    grad(c) {
      // Only the inference form is an identity: a training_mode input that is not a constant false would drop units.
      if (c.x[2]) c.fail('Dropout with a training_mode input is not supported (export the model in eval mode)');
      if (c.y[1]) c.fail('Dropout whose mask output is used is not supported');
      return [c.dy];
    },
  },
  Flatten: backToInputShape,
  Reshape: backToInputShape,
  Squeeze: backToInputShape,
  Unsqueeze: backToInputShape,
  Transpose: {
    inputs: [0],
    grad(c) {
      const rank = requireRank(c, c.x[0]!);
      const perm = intsAttribute(c.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      const inverse: number[] = [];
      perm.forEach((p, i) => (inverse[p] = i));
      return [c.b.op('Transpose', [c.dy], { perm: inverse }, 'transpose_grad')];
    },
  },
  Neg: { inputs: [0], grad: (c) => [c.b.op('Neg', [c.dy])] },
  Relu: {
    inputs: [0],
    // PyTorch's convention: the gradient at exactly 0 is 0.
    grad: (c) => [c.b.op('Where', [c.b.op('Greater', [c.x[0]!, c.b.scalar(0)]), c.dy, c.b.scalar(0)], {}, 'relu_grad')],
  },
  LeakyRelu: {
    inputs: [0],
    grad(c) {
      const alpha = floatAttribute(c.node, 'alpha', 0.01);
      const negative = c.b.op('Mul', [c.dy, c.b.scalar(alpha)]);
      return [c.b.op('Where', [c.b.op('Greater', [c.x[0]!, c.b.scalar(0)]), c.dy, negative], {}, 'leakyrelu_grad')];
    },
  },
  Sigmoid: {
    inputs: [0],
    grad(c) {
      const y = c.y[0]!;
      const slope = c.b.op('Mul', [y, c.b.op('Sub', [c.b.scalar(1), y])]);
      return [c.b.op('Mul', [c.dy, slope], {}, 'sigmoid_grad')];
    },
  },
  Tanh: {
    inputs: [0],
    grad(c) {
      const y = c.y[0]!;
      const slope = c.b.op('Sub', [c.b.scalar(1), c.b.op('Mul', [y, y])]);
      return [c.b.op('Mul', [c.dy, slope], {}, 'tanh_grad')];
    },
  },
  Exp: { inputs: [0], grad: (c) => [c.b.op('Mul', [c.dy, c.y[0]!], {}, 'exp_grad')] },
  Log: { inputs: [0], grad: (c) => [c.b.op('Div', [c.dy, c.x[0]!], {}, 'log_grad')] },
  Softmax: {
    inputs: [0],
    grad(c) {
      // dx = y ⊙ (dy − Σ(dy ⊙ y)) with the sum over the softmax axes.
      const y = c.y[0]!;
      const dot = c.b.reduceSum(c.b.op('Mul', [c.dy, y]), softmaxAxes(c), true);
      return [c.b.op('Mul', [y, c.b.op('Sub', [c.dy, dot])], {}, 'softmax_grad')];
    },
  },
  LogSoftmax: {
    inputs: [0],
    grad(c) {
      // dx = dy − exp(y) ⊙ Σ dy with the sum over the softmax axes.
      const total = c.b.reduceSum(c.dy, softmaxAxes(c), true);
      return [c.b.op('Sub', [c.dy, c.b.op('Mul', [c.b.op('Exp', [c.y[0]!]), total])], {}, 'logsoftmax_grad')];
    },
  },
  Add: {
    inputs: [0, 1],
    grad: (c) => [c.needs(0) ? unbroadcast(c, c.dy, 0) : undefined, c.needs(1) ? unbroadcast(c, c.dy, 1) : undefined],
  },
  Sub: {
    inputs: [0, 1],
    grad: (c) => [c.needs(0) ? unbroadcast(c, c.dy, 0) : undefined, c.needs(1) ? unbroadcast(c, c.b.op('Neg', [c.dy]), 1) : undefined],
  },
  Mul: {
    inputs: [0, 1],
    grad: (c) => [
      c.needs(0) ? unbroadcast(c, c.b.op('Mul', [c.dy, c.x[1]!]), 0) : undefined,
      c.needs(1) ? unbroadcast(c, c.b.op('Mul', [c.dy, c.x[0]!]), 1) : undefined,
    ],
  },
  Div: {
    inputs: [0, 1],
    grad(c) {
      const da = c.b.op('Div', [c.dy, c.x[1]!]);
      // d(a/b)/db = −(a/b)/b = −y/b
      const db = c.needs(1) ? c.b.op('Neg', [c.b.op('Mul', [da, c.y[0]!])]) : undefined;
      return [c.needs(0) ? unbroadcast(c, da, 0) : undefined, db && unbroadcast(c, db, 1)];
    },
  },
  Gemm: { inputs: [0, 1, 2], grad: gemmGrad },
  MatMul: { inputs: [0, 1], grad: matMulGrad },
};

/** The axes a Softmax/LogSoftmax normalizes over: one axis from opset 13, all axes from `axis` on before. */
function softmaxAxes(c: RuleContext): number[] {
  const rank = requireRank(c, c.x[0]!);
  const opset = c.b.opset;
  let axis = intAttribute(c.node, 'axis', opset >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (opset >= 13) return [axis];
  return Array.from({ length: rank - axis }, (_, i) => axis + i);
}

function gemmGrad(c: RuleContext): (string | undefined)[] {
  const alpha = floatAttribute(c.node, 'alpha', 1);
  const beta = floatAttribute(c.node, 'beta', 1);
  const transA = intAttribute(c.node, 'transA', 0);
  const transB = intAttribute(c.node, 'transB', 0);
  const [a, bIn, cIn] = c.x;
  // Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise. Each gradient is itself one Gemm.
  const da = !c.needs(0) ? undefined
    : transA ? gemm(c, bIn!, c.dy, transB, 1, alpha) : gemm(c, c.dy, bIn!, 0, 1 - transB, alpha);
  const db = !c.needs(1) ? undefined
    : transB ? gemm(c, c.dy, a!, 1, transA, alpha) : gemm(c, a!, c.dy, 1 - transA, 0, alpha);
  let dc: string | undefined;
  if (cIn && c.needs(2)) {
    const scaled = beta === 1 ? c.dy : c.b.op('Mul', [c.dy, c.b.scalar(beta)]);
    dc = unbroadcast(c, scaled, 2, c.shape(c.y[0]!));
  }
  return [da, db, dc];
}

/** α·op(P)·op(Q) as one Gemm (opset ≥ 11, where C is optional), or MatMul/Transpose/Mul before. */
function gemm(c: RuleContext, p: string, q: string, transP: number, transQ: number, alpha: number): string {
  if (c.b.opset >= 11) return c.b.op('Gemm', [p, q], { transA: transP, transB: transQ, alpha: { float: alpha } }, 'gemm_grad');
  const lhs = transP ? c.b.op('Transpose', [p], { perm: [1, 0] }) : p;
  const rhs = transQ ? c.b.op('Transpose', [q], { perm: [1, 0] }) : q;
  const product = c.b.op('MatMul', [lhs, rhs], {}, 'gemm_grad');
  return alpha === 1 ? product : c.b.op('Mul', [product, c.b.scalar(alpha)]);
}

function matMulGrad(c: RuleContext): (string | undefined)[] {
  const [a, bIn] = c.x;
  const sa = c.shape(a!);
  const sb = c.shape(bIn!);
  if (!sa || !sb) c.fail('needs the ranks of both inputs');
  if (sa.length < 2 || sb.length < 2) c.fail(`MatMul with a 1-D input is not supported (input ranks ${sa.length} and ${sb.length})`);
  if (sa.length === 2 && sb.length === 2) {
    return [c.needs(0) ? gemm(c, c.dy, bIn!, 0, 1, 1) : undefined, c.needs(1) ? gemm(c, a!, c.dy, 1, 0, 1) : undefined];
  }
  const swap = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const out = c.shape(c.y[0]!);
  if (!out) c.fail('needs the rank of its output');
  const batch = out.slice(0, -2);
  let da: string | undefined;
  let db: string | undefined;
  if (c.needs(0)) {
    const full = c.b.op('MatMul', [c.dy, c.b.op('Transpose', [bIn!], { perm: swap(sb.length) })], {}, 'matmul_grad');
    da = unbroadcast(c, full, 0, [...batch, sa[sa.length - 2], sa[sa.length - 1]]);
  }
  if (c.needs(1)) {
    const full = c.b.op('MatMul', [c.b.op('Transpose', [a!], { perm: swap(sa.length) }), c.dy], {}, 'matmul_grad');
    db = unbroadcast(c, full, 1, [...batch, sb[sb.length - 2], sb[sb.length - 1]]);
  }
  return [da, db];
}

/**
 * Sums a gradient of the broadcast shape back to input `i`'s shape: over the leading axes the input lacks and
 * the axes where it has size 1. Which axes those are is decided statically from the shapes.
 */
function unbroadcast(c: RuleContext, grad: string, i: number, gradShape: Shape = c.shape(c.y[0]!)): string {
  const name = c.x[i]!;
  const target = c.shape(name);
  if (!target) c.fail(`cannot differentiate through broadcasting: the rank of input ${JSON.stringify(name)} is unknown`);
  if (!gradShape) c.fail(`cannot differentiate through broadcasting: the rank of output ${JSON.stringify(c.y[0])} is unknown`);
  const rank = gradShape.length;
  const lead = rank - target.length;
  const axes: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    if (axis < lead) {
      axes.push(axis);
      continue;
    }
    const d: Dim = target[axis - lead];
    const out: Dim = gradShape[axis];
    if (d === 1) {
      if (out !== 1) axes.push(axis);
    } else if (typeof d === 'number' || (d !== undefined && d === out)) {
      // same size as the output: nothing was broadcast here
    } else if (!c.x.some((other, j) => j !== i && other && mayBroadcast(c.shape(other), axis, rank))) {
      // no other input is wider here, so this input is the output's size
    } else {
      c.fail(`cannot tell whether input ${JSON.stringify(name)} was broadcast on axis ${axis} (unknown size); give the model static or named dims`);
    }
  }
  if (axes.length === 0 && lead === 0) return grad;
  const summed = axes.length ? c.b.reduceSum(grad, axes, true) : grad;
  return lead === 0 ? summed : c.b.op('Reshape', [summed, c.b.op('Shape', [name])], {}, 'unbroadcast');
}

/** Whether a shape may be larger than 1 on `axis` of a rank-`rank` broadcast (false only when it is 1 or absent there). */
function mayBroadcast(shape: Shape, axis: number, rank: number): boolean {
  if (!shape) return true;
  const at = axis - (rank - shape.length);
  return at >= 0 && shape[at] !== 1;
}

function requireRank(c: RuleContext, name: string): number {
  const s = c.shape(name);
  if (!s) c.fail(`needs the rank of ${JSON.stringify(name)}, which is unknown`);
  return s.length;
}

/**
 * The inputs of `node` a gradient can flow into: none for {@link NON_DIFFERENTIABLE} operators, the rule's
 * inputs for supported ones, and every input of an operator without a rule (so that using it on the gradient
 * path is reported as unsupported rather than ignored).
 */
export function differentiableInputs(node: OnnxNs.NodeProto): (string | undefined)[] {
  if (NON_DIFFERENTIABLE.has(node.opType)) return [];
  const rule = GRADIENT_RULES[node.opType];
  return rule ? rule.inputs.map((i) => node.input[i]) : node.input;
}

/** The clear error for a node the differentiator cannot handle. */
export function nodeError(fn: string, node: OnnxNs.INodeProto, message: string): GradpipeError {
  return new GradpipeError(fn, `cannot differentiate node ${JSON.stringify(node.name || '(unnamed)')} (op ${node.opType}): ${message}`);
}

