import { GradpipeError } from '@gradpipe/core';
import { nodeError } from '../autodiff/differentiate.js';
import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import { valueInfo } from '../onnx/GraphBuilder.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { DataType, floatAttribute, intAttribute } from '../onnx/onnxProto.js';
import type { Dim } from '../shapes/Dim.js';
import { dimSymbols } from '../shapes/Dim.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import { UNKNOWN } from '../shapes/TensorInfo.js';

/** A training-mode BatchNormalization: where its batch statistics come out, and what they update. */
export interface RunningStatistics {
  /** The BatchNormalization node. */
  node: string;
  /** The initializer holding the running mean (updated by the trainer, read by predict and export). */
  mean: string;
  /** The initializer holding the running variance. */
  variance: string;
  /** PyTorch's momentum: `running ← (1 − momentum)·running + momentum·batch` (ONNX's attribute is 1 − this). */
  momentum: number;
  /** The training-graph output with the batch's mean per channel. */
  batchMean: string;
  /** The training-graph output with the batch's variance per channel, unbiased (n/(n−1)), as PyTorch updates with. */
  batchVariance: string;
}

/** A training-mode Dropout: the graph input that takes its mask. */
export interface DropoutMask {
  /** The Dropout node. */
  node: string;
  /** The training-graph input to feed: the mask already scaled, 0 or 1/(1 − ratio), shaped like the node's input. */
  input: string;
  /** The drop probability. */
  ratio: number;
  /** The mask's shape: numbers, or named dims of the model's inputs (resolved from the feeds at each step). */
  dims: (number | string)[];
}

/** What lowering found: state the trainer keeps and inputs it feeds. */
export interface TrainingForms {
  runningStatistics: RunningStatistics[];
  dropout: DropoutMask[];
}

/** A constant boolean or float input's value, or undefined when it is computed at run time. */
function constantValue(info: (name: string) => TensorInfo, name: string | undefined): number | undefined {
  if (!name) return undefined;
  const value = info(name).value;
  return value && value.length === 1 && typeof value[0] === 'number' ? value[0] : undefined;
}

/**
 * Rewrites the nodes that behave differently in training, before differentiation:
 * - BatchNormalization with `training_mode` 1 normalizes with the batch's own mean and (biased) variance: it
 *   becomes those reductions and the normalization, all differentiable, and the batch statistics become graph
 *   outputs from which the trainer updates the running statistics with PyTorch's rule;
 * - Dropout with `training_mode` true multiplies by a random mask: it becomes a multiplication by a mask that
 *   is a new graph input, so that the trainer draws a fresh mask every step from its own seeded generator (and
 *   a test can fix it).
 * Nodes in inference form stay as they are.
 */
export function lowerTrainingForms(
  fn: string,
  nodes: OnnxNs.NodeProto[],
  b: GraphBuilder,
  info: (name: string) => TensorInfo,
  initializers: ReadonlySet<string>,
  boundSymbols: ReadonlySet<string>,
  used: ReadonlySet<string>,
): { nodes: OnnxNs.NodeProto[]; inputs: OnnxNs.ValueInfoProto[]; outputs: OnnxNs.ValueInfoProto[]; forms: TrainingForms } {
  const forms: TrainingForms = { runningStatistics: [], dropout: [] };
  const inputs: OnnxNs.ValueInfoProto[] = [];
  const outputs: OnnxNs.ValueInfoProto[] = [];
  const lowered: OnnxNs.NodeProto[] = [];
  const emit = (build: () => void) => {
    const from = b.nodes.length;
    build();
    lowered.push(...b.nodes.splice(from));
  };
  for (const node of nodes) {
    if (
      node.opType === 'BatchNormalization' &&
      (!node.domain || node.domain === 'ai.onnx') &&
      intAttribute(node, 'training_mode', 0) === 1
    ) {
      emit(() => lowerBatchNorm(fn, node, b, info, initializers, used, forms, outputs));
    } else if (node.opType === 'Dropout' && (!node.domain || node.domain === 'ai.onnx') && node.input[2]) {
      const training = constantValue(info, node.input[2]);
      if (training === undefined)
        throw nodeError(fn, node, 'training_mode must be a constant (true to train with dropout, false for the identity)');
      if (training === 0) lowered.push(node);
      else emit(() => lowerDropout(fn, node, b, info, boundSymbols, used, forms, inputs));
    } else {
      lowered.push(node);
    }
  }
  return { nodes: lowered, inputs, outputs, forms };
}

function lowerBatchNorm(
  fn: string,
  node: OnnxNs.NodeProto,
  b: GraphBuilder,
  info: (name: string) => TensorInfo,
  initializers: ReadonlySet<string>,
  used: ReadonlySet<string>,
  forms: TrainingForms,
  outputs: OnnxNs.ValueInfoProto[],
): void {
  const [x, scale, bias, runningMean, runningVar] = node.input as [string, string, string, string, string];
  const rank =
    info(x).shape?.length ??
    (() => {
      throw nodeError(fn, node, `needs the rank of its input ${JSON.stringify(x)}`);
    })();
  const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const perChannel = (v: string) =>
    rank > 2
      ? b.unsqueeze(
          v,
          Array.from({ length: rank - 2 }, (_, i) => i + 1),
        )
      : v;
  const epsilon = floatAttribute(node, 'epsilon', 1e-5);
  const onnxMomentum = floatAttribute(node, 'momentum', 0.9);
  // y = (x − μ_B)/√(σ²_B + ε)·γ + β with the batch's statistics (σ² biased, as PyTorch normalizes).
  const mean = b.reduce('Mean', x, axes, true);
  const centered = b.op('Sub', [x, mean]);
  const variance = b.reduce('Mean', b.op('Mul', [centered, centered]), axes, true);
  const invStd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.scalar(epsilon)])])]);
  const normalized = b.op('Mul', [b.op('Mul', [centered, invStd]), perChannel(scale)]);
  b.node('Add', [normalized, perChannel(bias)], [node.output[0]!]);

  // The batch statistics per channel, the variance unbiased by n/(n − 1) as PyTorch's running_var is.
  const channelMean = b.reshape(mean, [-1]);
  const channelVar = b.reshape(variance, [-1]);
  const count = b.toFloat(b.op('Div', [b.op('Size', [x]), b.shapeOf(x, 1, 2)]));
  const unbiased = b.op('Mul', [channelVar, b.op('Div', [count, b.op('Sub', [count, b.scalar(1)])])]);
  const batchMean = b.op('Identity', [channelMean], {}, `batch_mean/${node.name || runningMean}`);
  const batchVariance = b.op('Identity', [unbiased], {}, `batch_variance/${node.name || runningVar}`);
  outputs.push(valueInfo(batchMean, DataType.FLOAT), valueInfo(batchVariance, DataType.FLOAT));
  // The node's own running-statistics outputs (ONNX's update rule), for a model that reads them.
  if (node.output[1] && used.has(node.output[1]))
    b.node(
      'Add',
      [b.op('Mul', [runningMean, b.scalar(onnxMomentum)]), b.op('Mul', [channelMean, b.scalar(1 - onnxMomentum)])],
      [node.output[1]],
    );
  if (node.output[2] && used.has(node.output[2]))
    b.node(
      'Add',
      [b.op('Mul', [runningVar, b.scalar(onnxMomentum)]), b.op('Mul', [channelVar, b.scalar(1 - onnxMomentum)])],
      [node.output[2]],
    );
  if (!initializers.has(runningMean) || !initializers.has(runningVar)) {
    throw new GradpipeError(
      fn,
      `BatchNormalization ${JSON.stringify(node.name)}: its running mean and variance must be initializers of the model`,
    );
  }
  forms.runningStatistics.push({
    node: node.name,
    mean: runningMean,
    variance: runningVar,
    momentum: 1 - onnxMomentum,
    batchMean,
    batchVariance,
  });
}

function lowerDropout(
  fn: string,
  node: OnnxNs.NodeProto,
  b: GraphBuilder,
  info: (name: string) => TensorInfo,
  boundSymbols: ReadonlySet<string>,
  used: ReadonlySet<string>,
  forms: TrainingForms,
  inputs: OnnxNs.ValueInfoProto[],
): void {
  const x = node.input[0]!;
  const ratio = node.input[1] ? constantValue(info, node.input[1]) : 0.5;
  if (ratio === undefined || ratio < 0 || ratio > 1) throw nodeError(fn, node, 'ratio must be a constant in [0, 1]');
  // The mask is fed at every step, so its shape must follow from the model inputs' dims.
  const shape = (info(x) ?? UNKNOWN).shape;
  if (!shape || shape.some((d: Dim) => d === undefined || dimSymbols(d).some((s) => !boundSymbols.has(s)))) {
    throw nodeError(
      fn,
      node,
      `the shape of its input ${JSON.stringify(x)} (${shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : 'unknown'}) must follow from the model inputs' dims, for the trainer to draw its mask`,
    );
  }
  const mask = b.fresh(`dropout_mask/${node.name || x}`);
  inputs.push(valueInfo(mask, DataType.FLOAT, shape));
  b.node('Mul', [x, mask], [node.output[0]!]);
  if (node.output[1] && used.has(node.output[1])) b.node('Greater', [mask, b.scalar(0)], [node.output[1]]);
  forms.dropout.push({ node: node.name, input: mask, ratio, dims: shape as (number | string)[] });
}
