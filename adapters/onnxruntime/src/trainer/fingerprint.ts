import { createHash } from 'node:crypto';
import type { OnnxNs } from '../onnx/onnxProto.js';
import { cloneModel, decodeModel, toNumber } from '../onnx/onnxProto.js';
import { toInferenceForm } from '../training/inferenceForm.js';

/**
 * A hash of a model's structure — nodes, their attributes, initializers' names, types and dims, inputs and
 * outputs — not of the weights' values, and the same for its training and inference forms: a saved trainer
 * state records it, so that a state is never resumed on another model. Takes the model as `.onnx` bytes or decoded.
 */
export function modelFingerprint(model: Uint8Array | OnnxNs.ModelProto): string {
  const graph = toInferenceForm(cloneModel(decodeModel('modelFingerprint', model))).graph!;
  const attribute = (a: OnnxNs.IAttributeProto) => ({
    name: a.name,
    i: a.i === undefined || a.i === null ? undefined : toNumber(a.i),
    f: a.f,
    s: a.s ? Buffer.from(a.s).toString('base64') : undefined,
    ints: a.ints?.map((v) => toNumber(v)),
    floats: a.floats,
    t: a.t ? { dims: a.t.dims?.map((d) => toNumber(d)), type: a.t.dataType } : undefined,
  });
  const structure = {
    nodes: (graph.node ?? []).map((n) => [n.opType, n.domain ?? '', n.input, n.output, (n.attribute ?? []).map(attribute)]),
    initializers: (graph.initializer ?? []).map((t) => [t.name, t.dataType, (t.dims ?? []).map((d) => toNumber(d))]),
    inputs: (graph.input ?? []).map((i) => i.name),
    outputs: (graph.output ?? []).map((o) => o.name),
  };
  return createHash('sha256').update(JSON.stringify(structure)).digest('hex');
}
