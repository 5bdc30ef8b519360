import type { GradientContext, OperatorRule } from '../autodiff/OperatorRule.js';
import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import { normalizeAxis } from '../shapes/TensorInfo.js';
import { likeInput } from './support/shapeRules.js';
import { sumToShape } from './support/sumToShape.js';

/**
 * The input gradient of a normalization x̂ = (x − μ)·σ⁻¹ with μ, σ over `axes`, given g = dy ⊙ scale:
 *     dx = σ⁻¹ · (g − mean(g) − x̂ · mean(g ⊙ x̂))
 * (the mean and variance depend on x too; these are their terms).
 */
function normalizedInputGrad(b: GraphBuilder, g: string, xhat: string, invStd: string, axes: readonly number[]): string {
  const meanG = b.reduce('Mean', g, axes, true);
  const meanGx = b.reduce('Mean', b.op('Mul', [g, xhat]), axes, true);
  return b.op('Mul', [invStd, b.op('Sub', [b.op('Sub', [g, meanG]), b.op('Mul', [xhat, meanGx])])], {}, 'normalization_grad');
}

/** A per-channel [C] vector shaped to broadcast against [N, C, D…]. */
function perChannel(b: GraphBuilder, v: string, rank: number): string {
  return rank > 2
    ? b.unsqueeze(
        v,
        Array.from({ length: rank - 2 }, (_, i) => i + 1),
      )
    : v;
}

/** The axes every channel's statistics run over: all but the channel axis 1. */
const allButChannel = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];

function batchNormGrad(c: GradientContext): (string | undefined)[] {
  // Training-mode nodes were rewritten into their batch statistics before differentiation (lowerTrainingForms);
  // this is the inference form, an affine map per channel with the running statistics as constants.
  if (c.attr.int('training_mode', 0) === 1) c.fail('training-mode BatchNormalization must be lowered first');
  const b = c.b;
  const [x, scale, , mean, variance] = c.x;
  const dy = c.dy[0]!;
  const rank = c.rank(x!);
  const invStd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance!, b.scalar(c.attr.float('epsilon', 1e-5))])])]);
  const axes = allButChannel(rank);
  const dx = c.needs(0) ? b.op('Mul', [dy, perChannel(b, b.op('Mul', [scale!, invStd]), rank)], {}, 'batchnorm_grad') : undefined;
  let dscale: string | undefined;
  if (c.needs(1)) {
    const xhat = b.op('Mul', [b.op('Sub', [x!, perChannel(b, mean!, rank)]), perChannel(b, invStd, rank)]);
    dscale = b.reduceSum(b.op('Mul', [dy, xhat]), axes, false);
  }
  const dbias = c.needs(2) ? b.reduceSum(dy, axes, false) : undefined;
  return [dx, dscale, dbias];
}

function layerNormGrad(c: GradientContext): (string | undefined)[] {
  if (c.dy[1] || c.dy[2]) c.fail('gradients through the Mean and InvStdDev outputs are not supported');
  const b = c.b;
  const [x, scale, bias] = c.x;
  const dy = c.dy[0]!;
  const rank = c.rank(x!);
  const axis = normalizeAxis(c.attr.int('axis', -1), rank);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  // The forward pass computes the statistics anyway: ask the node for them.
  const mean = c.output(1);
  const invStd = c.output(2);
  const xhat = b.op('Mul', [b.op('Sub', [x!, mean]), invStd], {}, 'xhat');
  const yShape = c.shape(c.y[0]!);
  const dx = c.needs(0) ? normalizedInputGrad(b, b.op('Mul', [dy, scale!]), xhat, invStd, axes) : undefined;
  const dscale = c.needs(1) ? sumToShape(b, b.op('Mul', [dy, xhat]), yShape, scale!, c.shape(scale!)) : undefined;
  const dbias = bias && c.needs(2) ? sumToShape(b, dy, yShape, bias, c.shape(bias)) : undefined;
  return [dx, dscale, dbias];
}

function instanceNormGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const [x, scale] = c.x;
  const dy = c.dy[0]!;
  const rank = c.rank(x!);
  const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
  const mean = b.reduce('Mean', x!, spatial, true);
  const centered = b.op('Sub', [x!, mean]);
  const variance = b.reduce('Mean', b.op('Mul', [centered, centered]), spatial, true);
  const invStd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.scalar(c.attr.float('epsilon', 1e-5))])])]);
  const xhat = b.op('Mul', [centered, invStd], {}, 'xhat');
  const dx = c.needs(0) ? normalizedInputGrad(b, b.op('Mul', [dy, perChannel(b, scale!, rank)]), xhat, invStd, spatial) : undefined;
  const dscale = c.needs(1) ? b.reduceSum(b.op('Mul', [dy, xhat]), allButChannel(rank), false) : undefined;
  const dbias = c.needs(2) ? b.reduceSum(dy, allButChannel(rank), false) : undefined;
  return [dx, dscale, dbias];
}

/** Normalization layers. */
export const normalizationRules = {
  BatchNormalization: {
    differentiable: [0, 1, 2],
    shape: (c) => {
      const x = c.input(0);
      const channel = { type: c.input(1).type, shape: c.input(1).shape };
      return [{ type: x.type, shape: x.shape }, channel, channel];
    },
    grad: batchNormGrad,
  },
  LayerNormalization: {
    differentiable: [0, 1, 2],
    shape: (c) => {
      const x = c.input(0);
      if (!x.shape) return [{ type: x.type }, {}, {}];
      const axis = normalizeAxis(c.attr.int('axis', -1), x.shape.length);
      const stats = { type: 1, shape: x.shape.map((d, i) => (i < axis ? d : 1)) };
      return [{ type: x.type, shape: x.shape }, stats, stats];
    },
    grad: layerNormGrad,
  },
  InstanceNormalization: { differentiable: [0, 1, 2], shape: likeInput(0), grad: instanceNormGrad },
} satisfies Record<string, OperatorRule>;
