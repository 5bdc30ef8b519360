import type { OnnxNs } from '../onnx/onnxProto.js';
import { cloneModel, decodeModel, onnx, toNumber } from '../onnx/onnxProto.js';

/**
 * A copy of the model in which the named initializers are graph inputs instead, so one session can run the
 * model with weights that change between runs.
 */
export function parametersAsInputs(model: Uint8Array | OnnxNs.ModelProto, names: readonly string[]): Uint8Array {
  const copy = cloneModel(decodeModel('parametersAsInputs', model));
  const graph = copy.graph!;
  const wanted = new Set(names);
  const inputs = new Set((graph.input ?? []).map((i) => i.name));
  const moved = (graph.initializer ?? []).filter((t) => wanted.has(t.name ?? ''));
  graph.initializer = (graph.initializer ?? []).filter((t) => !wanted.has(t.name ?? ''));
  for (const t of moved) {
    if (inputs.has(t.name)) continue;
    graph.input = [
      ...(graph.input ?? []),
      onnx.ValueInfoProto.create({
        name: t.name,
        type: { tensorType: { elemType: t.dataType, shape: { dim: (t.dims ?? []).map((d) => ({ dimValue: toNumber(d) })) } } },
      }),
    ];
  }
  return onnx.ModelProto.encode(copy).finish();
}

/** A copy of the model with these initializers' values replaced (float32, raw little-endian bytes). */
export function withInitializers(model: OnnxNs.ModelProto, values: Record<string, Float32Array>): Uint8Array {
  const copy = cloneModel(model);
  for (const t of copy.graph?.initializer ?? []) {
    const v = values[t.name ?? ''];
    if (!v) continue;
    const data = new Float32Array(v); // own buffer, so the bytes are exactly these values
    t.rawData = new Uint8Array(data.buffer);
    t.floatData = [];
  }
  return onnx.ModelProto.encode(copy).finish();
}
