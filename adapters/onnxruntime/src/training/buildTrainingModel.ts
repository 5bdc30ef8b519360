import { describeValue, GradpipeError } from '@gradpipe/core';
import { rejectUnknownKeys, requireOptionsObject } from '@gradpipe/core/internal';
import { differentiate } from '../autodiff/differentiate.js';
import { gradientPath, missingRulesMessage } from '../autodiff/gradientPath.js';
import { operatorRule } from '../autodiff/registry.js';
import { GraphBuilder, valueInfo } from '../onnx/GraphBuilder.js';
import { namesIn } from '../onnx/graphNames.js';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { cloneModel, DataType, decodeModel, onnx, readFloatTensor, TENSOR_TYPE_NAMES, toNumber } from '../onnx/onnxProto.js';
import { upgradeOpset } from '../onnx/upgradeOpset.js';
import { dimSymbols } from '../shapes/Dim.js';
import { fromValueInfo, inferShapes } from '../shapes/inferShapes.js';
import { UNKNOWN } from '../shapes/TensorInfo.js';
import type { LossKind, LossOptions, TargetSpec } from './losses.js';
import { appendLoss, resolveLoss, TARGET_INPUT } from './losses.js';
import type { DropoutMask, RunningStatistics } from './lowerTrainingForms.js';
import { lowerTrainingForms } from './lowerTrainingForms.js';
import { sharedInitializers } from './sharedInitializers.js';

export type { LossKind } from './losses.js';
export { TARGET_INPUT } from './losses.js';

/** Options of {@link buildTrainingModel}. */
export interface TrainingModelOptions {
  /**
   * `'mse'`: mean of the squared error over all elements (PyTorch `MSELoss`), the target shaped like the output.
   * `'crossEntropy'`: softmax cross-entropy of the output logits `[batch, classes]` against int64 labels `[batch]`,
   * mean over the batch (PyTorch `CrossEntropyLoss`).
   * `{ output }`: the model computes its scalar loss itself, in that output (targets are ordinary model inputs).
   */
  loss: LossKind;
  /** The loss's options (`reduction`, `ignoreIndex`, `labelSmoothing`, `weight`, `posWeight`, `delta`), as in PyTorch. */
  lossOptions?: LossOptions;
  /** Names of the float initializers to train. Default: every float32 initializer used as a weight (not Dropout's ratio). */
  trainable?: readonly string[];
  /** Which model output the loss is computed on. Default: the first output. */
  output?: string;
}

/** The names inside a training model, for feeding and reading it. */
export interface TrainingSignature {
  /** The model's own data inputs (feed these). */
  inputs: string[];
  /** The graph input that takes the target (`mse`: float, output-shaped; `crossEntropy`: int64 `[batch]`); none for `{ output }` losses. */
  target: string | undefined;
  /** What the target must be: type, shape (named dims of the inputs where dynamic), classes and ignored label. */
  targetSpec: TargetSpec | undefined;
  /** The scalar loss output. */
  loss: string;
  /** The model output the loss is computed on (for `{ output }` losses, the model output `predict()` returns). */
  prediction: string;
  /** That output's static shape as far as known (`null` for a dynamic dim), or undefined when its rank is unknown. */
  predictionDims: (number | null)[] | undefined;
  /** Trainable initializer name → the graph output holding its gradient. Trainables are graph inputs too. */
  gradients: Record<string, string>;
  /** Trainable initializer name → its shape. */
  shapes: Record<string, number[]>;
  /**
   * Trainable initializers that several nodes use (directly or through Identity), with those nodes: they train
   * as one tied weight. PyTorch's eval-mode export merges initializers whose initial values are equal, so this
   * is where two LayerNorm weights that PyTorch trains apart would show up.
   */
  shared: Record<string, string[]>;
  /**
   * The model inputs' dims: numbers, or the names of dynamic dims (`dim_param`, e.g. `'batch'`), null where a
   * dim has neither. Dropout masks and batch statistics are sized from these.
   */
  inputDims: Record<string, (number | string | null)[] | null>;
  /** Training-mode BatchNormalization nodes: their running statistics and the outputs that update them. */
  runningStatistics: RunningStatistics[];
  /** Training-mode Dropout nodes: the inputs that take their masks (the trainer feeds them; see OrtTrainer). */
  dropout: DropoutMask[];
  /**
   * The graph output holding the shape of the output the loss is computed on (int64), present only when
   * `targetSpec` leaves part of the target's shape or its classes to be known at run time: the trainer checks
   * the target against it before it uses the step.
   */
  predictionShape?: string;
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
 * Every node between a trainable parameter and the loss needs a gradient rule (docs/onnxruntime.md lists the
 * operators); the operators without one are all named, with their nodes, before anything is built.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import * as ort from 'onnxruntime-node';
 * import { buildTrainingModel } from '@gradpipe/onnxruntime';
 *
 * const { bytes, signature, initialParameters } = buildTrainingModel(readFileSync('mlp.onnx'), { loss: 'mse' });
 * const session = await ort.InferenceSession.create(bytes);
 * const feeds: Record<string, ort.Tensor> = { input: x, [signature.target!]: y };
 * for (const [name, w] of Object.entries(initialParameters)) feeds[name] = new ort.Tensor('float32', w, signature.shapes[name]);
 * const out = await session.run(feeds);
 * console.log(out[signature.loss].data[0], out[signature.gradients['fc1.weight']].data);
 * ```
 */
export function buildTrainingModel(model: Uint8Array | OnnxNs.ModelProto, options: TrainingModelOptions): TrainingModel {
  return buildTraining(FN, model, options);
}

/** {@link buildTrainingModel}, reporting errors under the name of the public function that called it. */
export function buildTraining(
  fn: string,
  model: Uint8Array | OnnxNs.ModelProto,
  options: TrainingModelOptions,
  /** Float32 initializers to feed at every run without differentiating (BatchNorm statistics for an evaluation graph). */
  fed: readonly string[] = [],
): TrainingModel {
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['loss', 'lossOptions', 'trainable', 'output']);
  const loss = resolveLoss(fn, options.loss, options.lossOptions);
  // Work on a copy: the caller's model stays as it was.
  const copy = cloneModel(decodeModel(fn, model));
  const graph = copy.graph as DecodedGraph;
  const opset = upgradeOpset(fn, copy);

  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  if (options.trainable !== undefined && (!Array.isArray(options.trainable) || options.trainable.some((n) => typeof n !== 'string'))) {
    throw new GradpipeError(fn, `trainable must be an array of initializer names, got ${describeValue(options.trainable)}`);
  }
  const trainableGiven = options.trainable ? [...options.trainable] : undefined;
  const outputs = graph.output.map((o) => o.name);
  const lossOutput = typeof loss.kind === 'object' ? loss.kind.output : undefined;
  if (lossOutput !== undefined && !outputs.includes(lossOutput)) {
    throw new GradpipeError(fn, `loss.output ${JSON.stringify(lossOutput)} is not an output of the model (outputs: ${outputs.join(', ')})`);
  }
  if (options.output !== undefined && (typeof options.output !== 'string' || !outputs.includes(options.output))) {
    throw new GradpipeError(fn, `output must be the name of a model output (${outputs.join(', ')}), got ${describeValue(options.output)}`);
  }
  const prediction = options.output ?? outputs.find((o) => o !== lossOutput) ?? outputs[0];
  if (!prediction) throw new GradpipeError(fn, 'the model has no output');

  const taken = namesIn(graph);
  if (taken.has(TARGET_INPUT) || taken.has(LOSS_OUTPUT))
    throw new GradpipeError(fn, `the model already uses the reserved names ${TARGET_INPUT} or ${LOSS_OUTPUT}`);
  taken.add(TARGET_INPUT);
  taken.add(LOSS_OUTPUT);

  const ruleOf = (op: string) => operatorRule({ opType: op });
  const dataInputs = graph.input.filter((i) => !initializers.has(i.name));
  const inputDims = Object.fromEntries(dataInputs.map((i) => [i.name, fromValueInfo(i).shape?.map((d) => d ?? null) ?? null]));
  const boundSymbols = new Set(Object.values(inputDims).flatMap((dims) => (dims ?? []).flatMap((d) => (d === null ? [] : dimSymbols(d)))));

  // Training forms first (batch statistics, dropout masks), then the shapes of the graph as it will run.
  const b = new GraphBuilder(opset, taken);
  const before = inferShapes(graph, opset, ruleOf);
  const used = new Set([...graph.node.flatMap((n) => n.input), ...graph.output.map((o) => o.name)]);
  const lowered = lowerTrainingForms(fn, graph.node, b, (n) => before.get(n) ?? UNKNOWN, new Set(initializers.keys()), boundSymbols, used);
  graph.node = lowered.nodes;
  graph.input.push(...lowered.inputs);
  const lossOn = lossOutput ?? prediction;
  const lossInput = inferShapes(graph, opset, ruleOf, b.initializers).get(lossOn) ?? UNKNOWN;
  // A loss needs float32 values; ONNX Runtime would refuse an int64 or bool output only with a type error deep
  // inside the appended graph.
  if (lossInput.type !== undefined && lossInput.type !== DataType.FLOAT) {
    const type = TENSOR_TYPE_NAMES[lossInput.type] ?? `ONNX type ${lossInput.type}`;
    throw new GradpipeError(
      fn,
      lossOutput !== undefined
        ? `loss.output ${JSON.stringify(lossOn)} is ${type}: a model-computed loss must be a float32 scalar`
        : `the loss is computed on the output ${JSON.stringify(lossOn)}, which is ${type}: it needs a float32 output (choose one with the output option)`,
    );
  }
  const appended = appendLoss(fn, b, loss, lossOn, lossInput.shape);
  // The loss is forward operators too: differentiated by the same rules, from d(loss)/d(loss) = 1.
  graph.node = [...graph.node, ...b.nodes.splice(0)];
  if (appended.target)
    graph.input.push(
      valueInfo(
        TARGET_INPUT,
        appended.target.type === 'int64' ? DataType.INT64 : DataType.FLOAT,
        appended.target.dims?.map((d) => d ?? undefined),
      ),
    );
  const known = inferShapes(graph, opset, ruleOf, b.initializers);
  const infoOf = (name: string) => known.get(name) ?? UNKNOWN;
  const buffers = new Set(lowered.forms.runningStatistics.flatMap((r) => [r.mean, r.variance]));
  const trainable = trainableGiven ?? defaultTrainable(graph).filter((name) => !buffers.has(name));
  for (const name of trainable) {
    const init = initializers.get(name);
    if (!init)
      throw new GradpipeError(
        fn,
        `trainable ${JSON.stringify(name)} is not an initializer of the model (initializers: ${[...initializers.keys()].join(', ')})`,
      );
    if (init.dataType !== DataType.FLOAT) throw new GradpipeError(fn, `trainable ${JSON.stringify(name)} is not float32`);
  }
  if (new Set(trainable).size !== trainable.length) throw new GradpipeError(fn, 'trainable lists a name twice');

  const path = gradientPath(graph.node, new Set(trainable), appended.value, (n) => operatorRule(n), infoOf);
  if (path.missing.length) throw new GradpipeError(fn, missingRulesMessage(path.missing));
  const grads = differentiate(fn, b, path, (n) => operatorRule(n)!, infoOf, { value: appended.value, grad: b.scalar(1) }, trainable);

  // A graph output must be produced by a node, so every gradient gets its own Identity (named after its parameter).
  const gradients: Record<string, string> = {};
  const paramShapes: Record<string, number[]> = {};
  for (const name of trainable) {
    paramShapes[name] = initializers.get(name)!.dims.map((d) => toNumber(d));
    gradients[name] = b.op('Identity', [grads.get(name) ?? b.zeros(paramShapes[name])], {}, `grad/${name}`);
  }
  b.node('Identity', [appended.value], [LOSS_OUTPUT]);
  // Where the target's shape or classes are not known before the run, the graph returns the shape the loss was
  // computed on: the trainer checks the target against it (a [1, k] target would broadcast against [n, k]).
  const predictionShape =
    appended.target && !knownBeforeRun(appended.target, boundSymbols) ? b.op('Shape', [lossOn], {}, 'prediction_shape') : undefined;

  // Trainables become graph inputs (weights are fed at every run) instead of baked-in initializers.
  const trainableSet = new Set([...trainable, ...fed]);
  const inputNames = new Set(graph.input.map((i) => i.name));
  for (const name of fed) {
    const init = initializers.get(name);
    if (!init || init.dataType !== DataType.FLOAT) throw new GradpipeError(fn, `${JSON.stringify(name)} is not a float32 initializer`);
    if (!inputNames.has(name))
      graph.input.push(
        valueInfo(
          name,
          DataType.FLOAT,
          init.dims.map((d) => toNumber(d)),
        ),
      );
  }
  const initialParameters: Record<string, Float32Array> = {};
  for (const name of trainable) {
    initialParameters[name] = readFloatTensor(fn, initializers.get(name)!);
    if (!inputNames.has(name)) graph.input.push(valueInfo(name, DataType.FLOAT, paramShapes[name]));
  }
  const shared = sharedInitializers(graph.node, trainable);
  graph.node = [...graph.node, ...b.nodes];
  graph.output = [
    valueInfo(LOSS_OUTPUT, DataType.FLOAT, []),
    ...trainable.map((name) => valueInfo(gradients[name]!, DataType.FLOAT, paramShapes[name])),
    ...lowered.outputs,
    ...(predictionShape ? [valueInfo(predictionShape, DataType.INT64, [lossInput.shape?.length])] : []),
  ];
  graph.initializer = usedInitializers(graph, [...graph.initializer.filter((t) => !trainableSet.has(t.name)), ...b.initializers]);
  graph.valueInfo = [];
  graph.name = `${graph.name || 'model'}-training`;

  const bytes = onnx.ModelProto.encode(copy).finish();
  return {
    bytes,
    model: copy,
    signature: {
      inputs: dataInputs.map((i) => i.name),
      target: appended.target ? TARGET_INPUT : undefined,
      targetSpec: appended.target,
      loss: LOSS_OUTPUT,
      prediction,
      predictionDims: infoOf(prediction).shape?.map((d) => (typeof d === 'number' ? d : null)),
      gradients,
      shapes: paramShapes,
      shared,
      inputDims,
      runningStatistics: lowered.forms.runningStatistics,
      dropout: lowered.forms.dropout,
      ...(predictionShape ? { predictionShape } : {}),
    },
    initialParameters,
  };
}

/** True when the feeds alone tell the target's whole shape (and the number of classes, for labels). */
function knownBeforeRun(spec: TargetSpec, boundSymbols: ReadonlySet<string>): boolean {
  const dimsKnown = spec.dims?.every(
    (d) => typeof d === 'number' || (typeof d === 'string' && dimSymbols(d).every((s) => boundSymbols.has(s))),
  );
  return dimsKnown === true && (spec.type !== 'int64' || spec.classes !== undefined);
}

/**
 * The float32 initializers used as weights: inputs a gradient can flow into. Float initializers that only
 * configure an operator (Dropout's ratio, BatchNormalization's running statistics) are left out.
 */
function defaultTrainable(graph: DecodedGraph): string[] {
  const weights = new Set<string>();
  for (const n of graph.node) {
    const rule = operatorRule(n);
    const inputs = rule ? rule.differentiable.map((i) => n.input[i]) : n.input;
    inputs.forEach((name) => name && weights.add(name));
  }
  return graph.initializer.filter((t) => t.dataType === DataType.FLOAT && weights.has(t.name)).map((t) => t.name);
}

/** The initializers some node (or subgraph) reads: ONNX Runtime warns about the others. */
function usedInitializers(graph: DecodedGraph, initializers: OnnxNs.TensorProto[]): OnnxNs.TensorProto[] {
  const used = namesIn({ node: graph.node, output: graph.output });
  return initializers.filter((t) => used.has(t.name));
}

/** A decoded graph: protobufjs fills every field, so nothing is null. */
interface DecodedGraph extends OnnxNs.GraphProto {
  node: OnnxNs.NodeProto[];
  initializer: OnnxNs.TensorProto[];
  input: OnnxNs.ValueInfoProto[];
  output: OnnxNs.ValueInfoProto[];
  valueInfo: OnnxNs.ValueInfoProto[];
}
