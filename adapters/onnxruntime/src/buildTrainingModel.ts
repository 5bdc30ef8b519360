import { GradpipeError, requireOptionsObject } from '@gradpipe/core';
import { GRADIENT_RULES, differentiableInputs, nodeError } from './gradientRules.js';
import type { RuleContext } from './gradientRules.js';
import { GraphBuilder } from './GraphBuilder.js';
import { DataType, cloneModel, decodeModel, onnx, readFloatTensor, toNumber } from './onnxProto.js';
import type { OnnxNs } from './onnxProto.js';
import { inferShapes } from './shapes.js';
import type { Shape } from './shapes.js';

/** The losses {@link buildTrainingModel} can append. */
export type LossKind = 'mse' | 'crossEntropy';

/** Options of {@link buildTrainingModel}. */
export interface TrainingModelOptions {
  /**
   * `'mse'`: mean of the squared error over all elements (PyTorch `MSELoss`), the target shaped like the output.
   * `'crossEntropy'`: softmax cross-entropy of the output logits `[batch, classes]` against int64 labels `[batch]`,
   * mean over the batch (PyTorch `CrossEntropyLoss`).
   */
  loss: LossKind;
  /** Names of the float initializers to train. Default: every float32 initializer used as a weight (not Dropout's ratio). */
  trainable?: readonly string[];
  /** Which model output the loss is computed on. Default: the first output. */
  output?: string;
}

/** The names inside a training model, for feeding and reading it. */
export interface TrainingSignature {
  /** The model's own data inputs (feed these). */
  inputs: string[];
  /** The graph input that takes the target (`mse`: float, output-shaped; `crossEntropy`: int64 `[batch]`). */
  target: string;
  /** The scalar loss output. */
  loss: string;
  /** The model output the loss is computed on. */
  prediction: string;
  /** That output's static shape as far as known (`null` for a dynamic dim), or undefined when its rank is unknown. */
  predictionDims: (number | null)[] | undefined;
  /** Trainable initializer name → the graph output holding its gradient. Trainables are graph inputs too. */
  gradients: Record<string, string>;
  /** Trainable initializer name → its shape. */
  shapes: Record<string, number[]>;
}

/** What {@link buildTrainingModel} returns. */
export interface TrainingModel {
  /** The training model, encoded: runs in any ONNX runtime's plain inference session. */
  bytes: Uint8Array;
  /** The same model, decoded. */
  model: OnnxNs.ModelProto;
  /** Names to feed and read. */
  signature: TrainingSignature;
  /** The initial values of the trainable parameters, from the model's initializers. */
  initialParameters: Record<string, Float32Array>;
}

const FN = 'buildTrainingModel';
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
/**
 * The reserved graph-output name of the scalar loss (`signature.loss`); a model that already uses it is refused.
 *
 * @example
 * ```ts
 * import { LOSS_OUTPUT } from '@gradpipe/onnxruntime';
 * const out = await session.run(feeds); // a session on buildTrainingModel(…).bytes
 * const loss = Number(out[LOSS_OUTPUT]!.data[0]);
 * ```
 */
export const LOSS_OUTPUT = 'gradpipe/loss';

/**
 * Builds the gradient graph of an ONNX model: a standard ONNX model whose inputs are the model's inputs, the
 * target and the trainable parameters, and whose outputs are the loss and one gradient per trainable parameter.
 * It is made by reverse-mode differentiation and contains standard operators only, so an ordinary
 * `InferenceSession` runs it; the weights are fed at every run, so the session is created once.
 *
 * Supported operators: Gemm, MatMul, Add, Sub, Mul, Div (with broadcasting), Relu, LeakyRelu, Sigmoid, Tanh,
 * Softmax, LogSoftmax, Exp, Log, Neg, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Identity, Constant and
 * inference-mode Dropout; operators that compute shapes (Shape, Gather on shapes, Concat…) may appear anywhere
 * off the gradient path. Any other operator on the path is an error naming it and its node.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import * as ort from 'onnxruntime-node';
 * import { buildTrainingModel } from '@gradpipe/onnxruntime';
 *
 * const { bytes, signature, initialParameters } = buildTrainingModel(readFileSync('mlp.onnx'), { loss: 'mse' });
 * const session = await ort.InferenceSession.create(bytes);
 * const feeds: Record<string, ort.Tensor> = { input: x, [signature.target]: y };
 * for (const [name, w] of Object.entries(initialParameters)) feeds[name] = new ort.Tensor('float32', w, signature.shapes[name]);
 * const out = await session.run(feeds);
 * console.log(out[signature.loss].data[0], out[signature.gradients['fc1.weight']].data);
 * ```
 */
export function buildTrainingModel(model: Uint8Array | OnnxNs.ModelProto, options: TrainingModelOptions): TrainingModel {
  requireOptionsObject(FN, options);
  const { loss } = options;
  if (loss !== 'mse' && loss !== 'crossEntropy') {
    throw new GradpipeError(FN, `loss must be 'mse' or 'crossEntropy', got ${JSON.stringify(loss)}`);
  }
  // Work on a copy: the caller's model stays as it was.
  const copy = cloneModel(decodeModel(FN, model));
  // Decoded messages are class instances with every repeated field present; type them as such.
  const graph = copy.graph as DecodedGraph;
  const opset = toNumber((copy.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < 9) throw new GradpipeError(FN, `needs an ai.onnx opset of at least 9, the model has ${opset}`);

  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  if (options.trainable !== undefined && (!Array.isArray(options.trainable) || options.trainable.some((n) => typeof n !== 'string'))) {
    throw new GradpipeError(FN, `trainable must be an array of initializer names, got ${JSON.stringify(options.trainable)}`);
  }
  const trainable = options.trainable ? [...options.trainable] : defaultTrainable(graph);
  for (const name of trainable) {
    const init = initializers.get(name);
    if (!init) throw new GradpipeError(FN, `trainable ${JSON.stringify(name)} is not an initializer of the model (initializers: ${[...initializers.keys()].join(', ')})`);
    if (init.dataType !== DataType.FLOAT) throw new GradpipeError(FN, `trainable ${JSON.stringify(name)} is not float32`);
  }
  if (new Set(trainable).size !== trainable.length) throw new GradpipeError(FN, 'trainable lists a name twice');

  const prediction = options.output ?? graph.output[0]?.name;
  if (!prediction || !graph.output.some((o) => o.name === prediction)) {
    throw new GradpipeError(FN, `output ${JSON.stringify(options.output)} is not an output of the model (outputs: ${graph.output.map((o) => o.name).join(', ')})`);
  }

  const taken = new Set<string>();
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) taken.add(v.name);
  for (const t of graph.initializer) taken.add(t.name);
  for (const n of graph.node) {
    n.input.forEach((i) => taken.add(i));
    n.output.forEach((o) => taken.add(o));
    if (n.name) taken.add(n.name);
  }
  if (taken.has(TARGET_INPUT) || taken.has(LOSS_OUTPUT)) throw new GradpipeError(FN, `the model already uses the reserved names ${TARGET_INPUT} or ${LOSS_OUTPUT}`);
  taken.add(TARGET_INPUT);
  taken.add(LOSS_OUTPUT);
  for (const n of graph.node) {
    if (n.domain && n.domain !== 'ai.onnx') throw nodeError(FN, n, `operators of domain ${JSON.stringify(n.domain)} are not supported`);
  }

  const { shapes } = inferShapes(graph, opset);
  const b = new GraphBuilder(opset, taken);
  const outputGrad = appendLoss(b, loss, prediction, shapes.get(prediction));
  const grads = differentiate(b, graph.node, new Set(trainable), prediction, outputGrad, (n) => shapes.get(n));

  // A graph output must be produced by a node, so every gradient gets its own Identity (named after its parameter).
  const gradients: Record<string, string> = {};
  const paramShapes: Record<string, number[]> = {};
  for (const name of trainable) {
    paramShapes[name] = initializers.get(name)!.dims.map((d) => toNumber(d));
    gradients[name] = b.op('Identity', [grads.get(name) ?? b.zeros(paramShapes[name])], {}, `grad/${name}`);
  }

  // Trainables become graph inputs (weights are fed at every run) instead of baked-in initializers.
  const trainableSet = new Set(trainable);
  const inputNames = new Set(graph.input.map((i) => i.name));
  const dataInputs = graph.input.filter((i) => !initializers.has(i.name)).map((i) => i.name);
  const initialParameters: Record<string, Float32Array> = {};
  for (const name of trainable) {
    initialParameters[name] = readFloatTensor(FN, initializers.get(name)!);
    if (!inputNames.has(name)) graph.input.push(tensorInfo(name, DataType.FLOAT, paramShapes[name]));
  }
  graph.input.push(tensorInfo(TARGET_INPUT, loss === 'mse' ? DataType.FLOAT : DataType.INT64, loss === 'mse' ? undefined : [undefined]));
  graph.initializer = [...graph.initializer.filter((t) => !trainableSet.has(t.name)), ...b.initializers];
  graph.node = [...graph.node, ...b.nodes];
  graph.output = [
    tensorInfo(LOSS_OUTPUT, DataType.FLOAT, []),
    ...trainable.map((name) => tensorInfo(gradients[name]!, DataType.FLOAT, paramShapes[name])),
  ];
  graph.name = `${graph.name || 'model'}-training`;

  const bytes = onnx.ModelProto.encode(copy).finish();
  return {
    bytes,
    model: copy,
    signature: {
      inputs: dataInputs,
      target: TARGET_INPUT,
      loss: LOSS_OUTPUT,
      prediction,
      predictionDims: shapes.get(prediction)?.map((d) => (typeof d === 'number' ? d : null)),
      gradients,
      shapes: paramShapes,
    },
    initialParameters,
  };
}

/** Appends the loss; returns the name of d(loss)/d(prediction). */
function appendLoss(b: GraphBuilder, loss: LossKind, prediction: string, shape: Shape): string {
  if (loss === 'mse') {
    const diff = b.op('Sub', [prediction, TARGET_INPUT], {}, 'mse_diff');
    const meanSq = b.op('ReduceMean', [b.op('Mul', [diff, diff])], { keepdims: 0 }, 'mse');
    b.nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: `${LOSS_OUTPUT}:node`, input: [meanSq], output: [LOSS_OUTPUT] }));
    // d/dŷ mean((ŷ − y)²) = 2(ŷ − y)/n
    const count = b.op('Cast', [b.op('Size', [diff])], { to: DataType.FLOAT }, 'count');
    return b.op('Mul', [diff, b.op('Div', [b.scalar(2), count])], {}, 'mse_grad');
  }
  if (shape && shape.length !== 2) {
    throw new GradpipeError(FN, `crossEntropy needs logits of shape [batch, classes], the output ${JSON.stringify(prediction)} has rank ${shape.length}`);
  }
  const logProbs = b.op('LogSoftmax', [prediction], { axis: 1 }, 'log_probs');
  const classes = b.op('Gather', [b.op('Shape', [prediction]), b.int64s([1])], { axis: 0 }, 'classes');
  const oneHot = b.op('OneHot', [TARGET_INPUT, classes, b.constantFloats([0, 1])], { axis: -1 }, 'one_hot');
  const batch = b.op('Cast', [b.op('Size', [TARGET_INPUT])], { to: DataType.FLOAT }, 'batch');
  const picked = b.sumAll(b.op('Mul', [oneHot, logProbs]));
  const mean = b.op('Div', [b.op('Neg', [picked]), batch], {}, 'cross_entropy');
  b.nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: `${LOSS_OUTPUT}:node`, input: [mean], output: [LOSS_OUTPUT] }));
  // d/dlogits = (softmax − onehot)/n
  return b.op('Div', [b.op('Sub', [b.op('Exp', [logProbs]), oneHot]), batch], {}, 'cross_entropy_grad');
}

/**
 * The float32 initializers used as weights: inputs a gradient can flow into. Float initializers that only
 * configure an operator (Dropout's ratio) are left out.
 */
function defaultTrainable(graph: DecodedGraph): string[] {
  const weights = new Set<string>();
  for (const n of graph.node) differentiableInputs(n).forEach((name) => name && weights.add(name));
  return graph.initializer.filter((t) => t.dataType === DataType.FLOAT && weights.has(t.name)).map((t) => t.name);
}

/** Reverse-mode differentiation of `nodes` from d(loss)/d(output); returns the gradient of each trainable. */
function differentiate(
  b: GraphBuilder,
  nodes: readonly OnnxNs.NodeProto[],
  trainable: Set<string>,
  output: string,
  outputGrad: string,
  shapeOf: RuleContext['shape'],
): Map<string, string> {
  // Forward: which values depend on a trainable through differentiable inputs.
  const needs = new Set(trainable);
  for (const n of nodes) {
    if (differentiableInputs(n).some((i) => i && needs.has(i))) n.output.forEach((o) => o && needs.add(o));
  }
  // Backward: accumulate gradient contributions, node by node in reverse topological order.
  const contributions = new Map<string, string[]>([[output, [outputGrad]]]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const incoming = node.output.map((o) => contributions.get(o));
    if (!incoming.some(Boolean) || !node.output.some((o) => needs.has(o))) continue;
    const rule = GRADIENT_RULES[node.opType];
    if (!rule) throw nodeError(FN, node, `operator ${node.opType} is not supported by the differentiator`);
    if (incoming.slice(1).some(Boolean) || !incoming[0]) throw nodeError(FN, node, 'only the first output of this operator can carry a gradient');
    const ctx: RuleContext = {
      b,
      node,
      x: node.input,
      y: node.output,
      dy: b.sum(incoming[0]),
      needs: (i) => rule.inputs.includes(i) && !!node.input[i] && needs.has(node.input[i]!),
      shape: shapeOf,
      fail: (message) => {
        throw nodeError(FN, node, message);
      },
    };
    const grads = rule.grad(ctx);
    grads.forEach((g, i) => {
      const name = node.input[i];
      if (!g || !name || !ctx.needs(i)) return;
      const list = contributions.get(name) ?? [];
      list.push(g);
      contributions.set(name, list);
    });
  }
  const result = new Map<string, string>();
  for (const name of trainable) {
    const list = contributions.get(name);
    if (list) result.set(name, b.sum(list));
  }
  return result;
}

/** A decoded graph: protobufjs fills every field, so nothing is null. */
interface DecodedGraph extends OnnxNs.GraphProto {
  node: OnnxNs.NodeProto[];
  initializer: OnnxNs.TensorProto[];
  input: OnnxNs.ValueInfoProto[];
  output: OnnxNs.ValueInfoProto[];
  valueInfo: OnnxNs.ValueInfoProto[];
}

function tensorInfo(name: string, elemType: number, dims: (number | undefined)[] | undefined): OnnxNs.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims ? { shape: { dim: dims.map((d) => (d === undefined ? {} : { dimValue: d })) } } : {}),
      },
    },
  });
}
