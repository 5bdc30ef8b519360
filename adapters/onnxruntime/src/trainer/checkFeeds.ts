import { describeValue, GradpipeError } from '@gradpipe/core';
import * as ort from 'onnxruntime-node';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { TENSOR_TYPE_NAMES } from '../onnx/onnxProto.js';
import type { TrainingSignature } from '../training/buildTrainingModel.js';

/** The element type of each model input, as `ort.Tensor#type` names it (absent where the model does not say). */
export function inputTypes(source: OnnxNs.ModelProto, signature: TrainingSignature): Record<string, string> {
  const types: Record<string, string> = {};
  for (const input of source.graph!.input ?? []) {
    const type = TENSOR_TYPE_NAMES[input.type?.tensorType?.elemType ?? 0];
    if (type && signature.inputs.includes(input.name!)) types[input.name!] = type;
  }
  return types;
}

/**
 * Refuses feeds that are not the model's inputs, or not of their types, ranks and static dims — with a
 * gradpipe error naming the input, before ONNX Runtime would refuse them with its own.
 */
export function checkFeeds(
  fn: string,
  signature: TrainingSignature,
  types: Readonly<Record<string, string>>,
  feeds: unknown,
): asserts feeds is Record<string, ort.Tensor> {
  if (typeof feeds !== 'object' || feeds === null || feeds instanceof ort.Tensor) {
    throw new GradpipeError(
      fn,
      `feeds must be an object of ort.Tensor by input name (${signature.inputs.join(', ')}), got ${describeValue(feeds)}`,
    );
  }
  const given = feeds as Record<string, unknown>;
  for (const name of signature.inputs) {
    const tensor = given[name];
    if (!(tensor instanceof ort.Tensor)) throw new GradpipeError(fn, `feeds has no ort.Tensor for the model input ${JSON.stringify(name)}`);
    const type = types[name];
    if (type !== undefined && tensor.type !== type)
      throw new GradpipeError(fn, `feeds[${JSON.stringify(name)}] must be a ${type} tensor, got a ${tensor.type} tensor`);
    const dims = signature.inputDims[name];
    if (dims && (tensor.dims.length !== dims.length || dims.some((d, i) => typeof d === 'number' && d !== tensor.dims[i]))) {
      throw new GradpipeError(
        fn,
        `feeds[${JSON.stringify(name)}] must have shape [${dims.map((d) => d ?? '?').join(', ')}], got [${tensor.dims.join(', ')}]`,
      );
    }
  }
  for (const name of Object.keys(given)) {
    if (!signature.inputs.includes(name))
      throw new GradpipeError(fn, `feeds has ${JSON.stringify(name)}, which is not a model input (${signature.inputs.join(', ')})`);
  }
}
