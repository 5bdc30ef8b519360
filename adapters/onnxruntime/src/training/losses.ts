import { GradpipeError, describeValue, rejectUnknownKeys } from '@gradpipe/core';
import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import { DataType } from '../onnx/onnxProto.js';
import type { Dim } from '../shapes/Dim.js';

/**
 * The loss a training model computes: `'mse'` and `'crossEntropy'` against a target the trainer feeds, or
 * `{ output }`, a scalar the model itself computes (your own loss, exported with the targets as extra inputs).
 */
export type LossKind =
  | 'mse'
  | 'crossEntropy'
  | {
      /** The model output that holds the scalar loss. */
      output: string;
    };

/**
 * The reserved graph-input name of the training target (`signature.target`); a model that already uses it is
 * refused.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { buildTrainingModel, TARGET_INPUT } from '@gradpipe/onnxruntime';
 * const { signature } = buildTrainingModel(readFileSync('mlp.onnx'), { loss: 'mse' });
 * signature.target === TARGET_INPUT; // true: feed the target under this name
 * ```
 */
export const TARGET_INPUT = 'gradpipe/target';

/** Checks a `loss` option. */
export function checkLoss(fn: string, loss: unknown): LossKind {
  if (loss === 'mse' || loss === 'crossEntropy') return loss;
  if (typeof loss === 'object' && loss !== null && !Array.isArray(loss)) {
    rejectUnknownKeys(fn, loss as object, ['output']);
    const output = (loss as { output?: unknown }).output;
    if (typeof output === 'string' && output !== '') return { output };
    throw new GradpipeError(fn, `loss.output must be the name of the model output that holds the loss, got ${describeValue(output)}`);
  }
  throw new GradpipeError(fn, `loss must be 'mse', 'crossEntropy' or { output: '<scalar loss output>' }, got ${describeValue(loss)}`);
}

/** What appending a loss adds to the graph. */
export interface AppendedLoss {
  /** The scalar loss value. */
  value: string;
  /** d(loss)/d(prediction), the seed of backpropagation. */
  seed: { value: string; grad: string };
  /** The target input's type and shape, if the loss takes one. */
  target?: { type: number; dims: Dim[] | undefined };
}

/**
 * Appends the loss on `prediction` and the gradient of the loss with respect to it, as PyTorch defines them:
 * `'mse'` is `nn.MSELoss()` (mean over every element), `'crossEntropy'` is `nn.CrossEntropyLoss()` on logits
 * `[batch, classes]` with int64 labels `[batch]` (mean over the batch). A model-computed loss seeds with 1.
 */
export function appendLoss(fn: string, b: GraphBuilder, loss: LossKind, prediction: string, shape: readonly Dim[] | undefined): AppendedLoss {
  if (typeof loss === 'object') {
    if (shape && shape.length > 0 && shape.some((d) => d !== 1)) {
      throw new GradpipeError(fn, `loss.output ${JSON.stringify(prediction)} must be a scalar, it has shape [${shape.map((d) => d ?? '?').join(', ')}]`);
    }
    const ones = b.op('ConstantOfShape', [b.shapeOf(prediction)], { value: { tensor: { dims: [1], dataType: DataType.FLOAT, floatData: [1] } } }, 'loss_seed');
    return { value: prediction, seed: { value: prediction, grad: ones } };
  }
  if (loss === 'mse') {
    const diff = b.op('Sub', [prediction, TARGET_INPUT], {}, 'mse_diff');
    const value = b.reduce('Mean', b.op('Mul', [diff, diff]), undefined, false);
    // d/dŷ mean((ŷ − y)²) = 2(ŷ − y)/n
    const count = b.toFloat(b.op('Size', [diff]));
    const grad = b.op('Mul', [diff, b.op('Div', [b.scalar(2), count])], {}, 'mse_grad');
    return { value, seed: { value: prediction, grad }, target: { type: DataType.FLOAT, dims: shape ? [...shape] : undefined } };
  }
  if (shape && shape.length !== 2) {
    throw new GradpipeError(fn, `crossEntropy needs logits of shape [batch, classes], the output ${JSON.stringify(prediction)} has rank ${shape.length}`);
  }
  const logProbs = b.op('LogSoftmax', [prediction], { axis: 1 }, 'log_probs');
  const classes = b.shapeOf(prediction, 1, 2);
  const oneHot = b.op('OneHot', [TARGET_INPUT, classes, b.floats([2], [0, 1])], { axis: -1 }, 'one_hot');
  const batch = b.toFloat(b.op('Size', [TARGET_INPUT]));
  const picked = b.sumAll(b.op('Mul', [oneHot, logProbs]));
  const value = b.op('Div', [b.op('Neg', [picked]), batch], {}, 'cross_entropy');
  // d/dlogits = (softmax − onehot)/n
  const grad = b.op('Div', [b.op('Sub', [b.op('Exp', [logProbs]), oneHot]), batch], {}, 'cross_entropy_grad');
  return { value, seed: { value: prediction, grad }, target: { type: DataType.INT64, dims: [shape?.[0]] } };
}
