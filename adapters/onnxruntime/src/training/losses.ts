import { describeValue, GradpipeError } from '@gradpipe/core';
import { isPlainObject, rejectUnknownKeys, requireInRange, requireInteger, requirePositiveFinite } from '@gradpipe/core/internal';
import type { GraphBuilder } from '../onnx/GraphBuilder.js';
import type { Dim } from '../shapes/Dim.js';

/** The losses a training model can append, with PyTorch's definitions (`torch.nn.functional`). */
export type LossName = 'mse' | 'crossEntropy' | 'nll' | 'bceWithLogits' | 'l1' | 'huber';

/**
 * The loss a training model computes: one of {@link LossName} against a target the trainer feeds, or
 * `{ output }`, a scalar the model itself computes (your own loss, exported with the targets as extra inputs).
 */
export type LossKind =
  | LossName
  | {
      /** The model output that holds the scalar loss. */
      output: string;
    };

/** Options of the losses, with PyTorch's names and defaults. */
export interface LossOptions {
  /** `'mean'` (default) or `'sum'` over the elements (crossEntropy/nll: over the non-ignored labels, weighted). */
  reduction?: 'mean' | 'sum';
  /** crossEntropy, nll: a label that contributes nothing. Default -100. */
  ignoreIndex?: number;
  /** crossEntropy: ε in [0, 1] — the target is (1 − ε)·one-hot + ε/classes. Default 0. */
  labelSmoothing?: number;
  /** crossEntropy, nll: a weight per class. */
  weight?: readonly number[];
  /** bceWithLogits: the weight of positive examples, per class (the last axis). */
  posWeight?: readonly number[];
  /** huber: where the quadratic part ends. Default 1. */
  delta?: number;
}

/** A loss with every option checked and defaulted. */
export interface ResolvedLoss {
  kind: LossKind;
  reduction: 'mean' | 'sum';
  ignoreIndex: number;
  labelSmoothing: number;
  weight: number[] | undefined;
  posWeight: number[] | undefined;
  delta: number;
}

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

const NAMES: readonly LossName[] = ['mse', 'crossEntropy', 'nll', 'bceWithLogits', 'l1', 'huber'];
/** Which options each loss takes (every loss takes `reduction`). */
const APPLIES: Record<Exclude<keyof LossOptions, 'reduction'>, readonly LossName[]> = {
  ignoreIndex: ['crossEntropy', 'nll'],
  labelSmoothing: ['crossEntropy'],
  weight: ['crossEntropy', 'nll'],
  posWeight: ['bceWithLogits'],
  delta: ['huber'],
};

function numbers(fn: string, name: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw new GradpipeError(fn, `lossOptions.${name} must be a non-empty array of finite numbers >= 0, got ${describeValue(value)}`);
  }
  return [...value];
}

/** Checks `loss` and `lossOptions`: names, values, and that each option applies to the loss. */
export function resolveLoss(fn: string, loss: unknown, options: unknown = {}): ResolvedLoss {
  let kind: LossKind;
  if (typeof loss === 'string' && (NAMES as readonly string[]).includes(loss)) {
    kind = loss as LossName;
  } else if (isPlainObject(loss)) {
    rejectUnknownKeys(fn, loss, ['output']);
    const output = (loss as { output?: unknown }).output;
    if (typeof output !== 'string' || output === '') {
      throw new GradpipeError(fn, `loss.output must be the name of the model output that holds the loss, got ${describeValue(output)}`);
    }
    kind = { output };
  } else {
    throw new GradpipeError(
      fn,
      `loss must be one of ${NAMES.map((n) => `'${n}'`).join(', ')} or { output: '<scalar loss output>' }, got ${describeValue(loss)}`,
    );
  }
  if (!isPlainObject(options)) throw new GradpipeError(fn, `lossOptions must be a plain object, got ${describeValue(options)}`);
  rejectUnknownKeys(fn, options, ['reduction', ...Object.keys(APPLIES)]);
  const o = options as LossOptions;
  for (const [key, losses] of Object.entries(APPLIES)) {
    if ((o as Record<string, unknown>)[key] !== undefined && (typeof kind === 'object' || !losses.includes(kind))) {
      throw new GradpipeError(
        fn,
        `lossOptions.${key} applies to ${losses.map((l) => `'${l}'`).join(' and ')}, not to ${typeof kind === 'object' ? 'a model-computed loss' : `'${kind}'`}`,
      );
    }
  }
  if (o.reduction !== undefined && typeof kind === 'object')
    throw new GradpipeError(fn, 'lossOptions.reduction does not apply to a model-computed loss');
  const reduction = o.reduction === undefined ? 'mean' : o.reduction;
  if (reduction !== 'mean' && reduction !== 'sum')
    throw new GradpipeError(fn, `lossOptions.reduction must be 'mean' or 'sum', got ${describeValue(reduction)}`);
  return {
    kind,
    reduction,
    ignoreIndex: o.ignoreIndex === undefined ? -100 : requireInteger(fn, 'lossOptions.ignoreIndex', o.ignoreIndex, Number.MIN_SAFE_INTEGER),
    labelSmoothing: o.labelSmoothing === undefined ? 0 : requireInRange(fn, 'lossOptions.labelSmoothing', o.labelSmoothing, 0, 1),
    weight: o.weight === undefined ? undefined : numbers(fn, 'weight', o.weight),
    posWeight: o.posWeight === undefined ? undefined : numbers(fn, 'posWeight', o.posWeight),
    delta: o.delta === undefined ? 1 : requirePositiveFinite(fn, 'lossOptions.delta', o.delta),
  };
}

/** What the target of a loss must look like. */
export interface TargetSpec {
  /** `'int64'` class labels or `'float32'` values. */
  type: 'int64' | 'float32';
  /** Its shape: numbers, named dims of the model's inputs, or null where unknown. */
  dims: (number | string | null)[] | undefined;
  /** For labels: the number of classes (labels must be in [0, classes) or ignoreIndex), when known. */
  classes?: number;
  /** For labels: the label that is ignored. */
  ignoreIndex?: number;
}

/** What appending a loss adds to the graph. */
export interface AppendedLoss {
  /** The scalar loss value. */
  value: string;
  /** The target input's spec, if the loss takes one. */
  target?: TargetSpec;
}

const isLabels = (kind: LossName) => kind === 'crossEntropy' || kind === 'nll';

/**
 * Appends the loss on `prediction` as forward operators only — their gradient comes from the same rules as the
 * model's — with PyTorch's definitions: `mse`, `l1`, `huber` (`nn.HuberLoss`), `bceWithLogits`
 * (`nn.BCEWithLogitsLoss`, stable: (1 − y)·x + (1 + (p − 1)·y)·softplus(−x)), `crossEntropy` on logits
 * `[N, C, d…]` with labels `[N, d…]` (`nn.CrossEntropyLoss`: weights, ignoreIndex, label smoothing) and `nll`
 * on log-probabilities (`nn.NLLLoss`). A model-computed loss is taken as it is.
 */
export function appendLoss(
  fn: string,
  b: GraphBuilder,
  loss: ResolvedLoss,
  prediction: string,
  shape: readonly Dim[] | undefined,
): AppendedLoss {
  const { kind } = loss;
  if (typeof kind === 'object') {
    if (shape && shape.length > 0 && shape.some((d) => d !== 1)) {
      throw new GradpipeError(
        fn,
        `loss.output ${JSON.stringify(prediction)} must be a scalar, it has shape [${shape.map((d) => d ?? '?').join(', ')}]`,
      );
    }
    return { value: prediction };
  }
  const dims = shape?.map((d) => d ?? null);
  if (isLabels(kind)) {
    if (shape && shape.length < 2)
      throw new GradpipeError(
        fn,
        `${kind} needs ${kind === 'nll' ? 'log-probabilities' : 'logits'} of shape [batch, classes, …], the output ${JSON.stringify(prediction)} has rank ${shape.length}`,
      );
    const classes = typeof shape?.[1] === 'number' ? shape[1] : undefined;
    if (loss.weight && classes !== undefined && loss.weight.length !== classes) {
      throw new GradpipeError(fn, `lossOptions.weight has ${loss.weight.length} entries for ${classes} classes`);
    }
    const value = classificationLoss(b, loss, prediction, shape?.length ?? 2, classes);
    return {
      value,
      target: {
        type: 'int64',
        dims: dims && [dims[0]!, ...dims.slice(2)],
        ...(classes !== undefined ? { classes } : {}),
        ignoreIndex: loss.ignoreIndex,
      },
    };
  }
  const last = shape?.[shape.length - 1];
  if (loss.posWeight && typeof last === 'number' && loss.posWeight.length !== last && loss.posWeight.length !== 1) {
    throw new GradpipeError(fn, `lossOptions.posWeight has ${loss.posWeight.length} entries for ${last} classes (the output's last axis)`);
  }
  const elements = elementwiseLoss(b, loss, prediction, TARGET_INPUT);
  const value = b.reduce(loss.reduction === 'mean' ? 'Mean' : 'Sum', elements, undefined, false);
  return { value, target: { type: 'float32', dims } };
}

function elementwiseLoss(b: GraphBuilder, loss: ResolvedLoss, x: string, y: string): string {
  switch (loss.kind as LossName) {
    case 'mse': {
      const d = b.op('Sub', [x, y], {}, 'loss_diff');
      return b.op('Mul', [d, d]);
    }
    case 'l1':
      return b.op('Abs', [b.op('Sub', [x, y], {}, 'loss_diff')]);
    case 'huber': {
      const d = b.op('Sub', [x, y], {}, 'loss_diff');
      const a = b.op('Abs', [d]);
      const delta = loss.delta;
      const quadratic = b.op('Mul', [b.op('Mul', [d, d]), b.scalar(0.5)]);
      const linear = b.op('Mul', [b.op('Sub', [a, b.scalar(0.5 * delta)]), b.scalar(delta)]);
      return b.op('Where', [b.op('Less', [a, b.scalar(delta)]), quadratic, linear], {}, 'huber');
    }
    case 'bceWithLogits': {
      // PyTorch's stable form: (1 − y)·x + (1 + (p − 1)·y)·log(1 + e^(−x)); softplus(−x) is log(1 + e^(−x)).
      const one = b.scalar(1);
      const logWeight = loss.posWeight
        ? b.op('Add', [one, b.op('Mul', [b.op('Sub', [b.floats([loss.posWeight.length], loss.posWeight), one]), y])])
        : one;
      return b.op(
        'Add',
        [b.op('Mul', [b.op('Sub', [one, y]), x]), b.op('Mul', [logWeight, b.op('Softplus', [b.op('Neg', [x])])])],
        {},
        'bce',
      );
    }
    default:
      throw new Error(`not an element-wise loss: ${String(loss.kind)}`);
  }
}

/**
 * Cross-entropy / NLL as PyTorch computes them: −Σ w_yᵢ·log p(yᵢ) over the non-ignored labels, divided by
 * Σ w_yᵢ for the mean; with label smoothing ε, (1 − ε)·that + (ε/C)·(−Σᵢ Σ_c w_c log p_c), same divisor.
 */
function classificationLoss(b: GraphBuilder, loss: ResolvedLoss, prediction: string, rank: number, classes: number | undefined): string {
  const logp = loss.kind === 'crossEntropy' ? b.op('LogSoftmax', [prediction], { axis: 1 }, 'log_probs') : prediction;
  const labels = TARGET_INPUT;
  const ignored = b.op('Equal', [labels, b.int64(loss.ignoreIndex)]);
  const safe = b.op('Where', [ignored, b.int64(0), labels], {}, 'labels');
  const picked = b.squeeze(b.op('GatherElements', [logp, b.unsqueeze(safe, [1])], { axis: 1 }, 'picked'), [1]);
  const valid = b.toFloat(b.op('Not', [ignored]));
  const weights = loss.weight
    ? b.op('Mul', [b.op('Gather', [b.floats([loss.weight.length], loss.weight), safe], { axis: 0 }), valid])
    : valid;
  const mean = loss.reduction === 'mean';
  const divisor = mean ? b.sumAll(weights) : undefined;
  const reduce = (total: string) => (divisor ? b.op('Div', [total, divisor]) : total);
  const nll = reduce(b.op('Neg', [b.sumAll(b.op('Mul', [picked, weights]))], {}, 'nll'));
  if (loss.labelSmoothing === 0) return nll;
  const perClass = loss.weight
    ? b.op('Mul', [logp, b.floats([1, loss.weight.length, ...new Array<number>(rank - 2).fill(1)], loss.weight)])
    : logp;
  const smooth = reduce(b.op('Neg', [b.sumAll(b.op('Mul', [b.reduceSum(perClass, [1], false), valid]))], {}, 'smooth'));
  const count = classes !== undefined ? b.scalar(classes) : b.toFloat(b.reshape(b.shapeOf(prediction, 1, 2), []));
  const eps = loss.labelSmoothing;
  return b.op(
    'Add',
    [b.op('Mul', [nll, b.scalar(1 - eps)]), b.op('Mul', [smooth, b.op('Div', [b.scalar(eps), count])])],
    {},
    'cross_entropy',
  );
}
