// onnx-proto is CommonJS: Node's ESM loader only sees its default export, so we take the namespace from there.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { GradpipeError, describeValue } from '@gradpipe/core';

/** The ONNX protobuf schema (protobufjs classes generated from onnx.proto). */
export const onnx: typeof OnnxTypes = onnxProto.onnx;
export type { OnnxTypes as OnnxNs };

/** ONNX `TensorProto.DataType` values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** An int64 protobuf field as a JS number (protobufjs gives a `Long` when the `long` package is present). */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Decodes `.onnx` bytes, or passes a decoded model through; a clear error when the bytes are not a model. */
export function decodeModel(fn: string, model: Uint8Array | OnnxTypes.ModelProto): OnnxTypes.ModelProto {
  if (model instanceof onnx.ModelProto) return model;
  if (!(model instanceof Uint8Array)) {
    throw new GradpipeError(fn, `model must be the bytes of an .onnx file (Uint8Array) or an onnx.ModelProto, got ${describeValue(model)}`);
  }
  let decoded: OnnxTypes.ModelProto;
  try {
    decoded = onnx.ModelProto.decode(model);
  } catch (e) {
    throw new GradpipeError(fn, `model bytes are not an ONNX model (${(e as Error).message})`);
  }
  if (!decoded.graph) throw new GradpipeError(fn, 'model has no graph');
  return decoded;
}

/** A deep copy of a model (encoded and decoded again), to change without touching the caller's. */
export function cloneModel(model: OnnxTypes.ModelProto): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
}

/** The float32 values of an initializer (raw little-endian bytes or `floatData`), as a fresh array. */
export function readFloatTensor(fn: string, t: OnnxTypes.ITensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) {
    throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} is not float32 (data type ${t.dataType})`);
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} uses external data, which is not supported; save the model with its weights inside`);
  }
  const count = (t.dims ?? []).reduce<number>((a, d) => a * toNumber(d), 1);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    // Copy first: the raw bytes may sit at an offset that is not a multiple of 4 inside the decoded buffer.
    const bytes = new Uint8Array(raw); // a copy at offset 0 (Buffer#slice would be a view)
    const out = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    if (out.length !== count) throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} has ${out.length} values for ${count} elements`);
    return new Float32Array(out);
  }
  const data = Float32Array.from(t.floatData ?? []);
  if (data.length !== count) throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} has ${data.length} values for ${count} elements`);
  return data;
}

/** The int64 values of a tensor (raw bytes or `int64Data`), as numbers. */
export function readInt64Tensor(t: OnnxTypes.ITensorProto): number[] {
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const bytes = new Uint8Array(raw); // a copy at offset 0 (Buffer#slice would be a view)
    return Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), Number);
  }
  return (t.int64Data ?? []).map((v) => toNumber(v));
}

/** A float32 tensor proto with raw little-endian data. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): OnnxTypes.TensorProto {
  const data = Float32Array.from(values);
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

/** An int64 tensor proto with raw little-endian data. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): OnnxTypes.TensorProto {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: DataType.INT64,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

/** The value of a node attribute by name, or undefined. */
export function attribute(node: OnnxTypes.INodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

/** An int attribute, or `fallback` when absent. */
export function intAttribute(node: OnnxTypes.INodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? toNumber(a.i) : fallback;
}

/** A float attribute, or `fallback` when absent. */
export function floatAttribute(node: OnnxTypes.INodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? (a.f ?? fallback) : fallback;
}

/** An ints attribute, or undefined when absent. */
export function intsAttribute(node: OnnxTypes.INodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? (a.ints ?? []).map((v) => toNumber(v)) : undefined;
}
