// onnx-proto is CommonJS: Node's ESM loader only sees its default export, so we take the namespace from there.

import { describeValue, GradpipeError } from '@gradpipe/core';
import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';

/** The ONNX protobuf schema (protobufjs classes generated from onnx.proto). */
export const onnx: typeof OnnxTypes = onnxProto.onnx;
export type { OnnxTypes as OnnxNs };

/** ONNX `TensorProto.DataType` values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** ONNX element types by the names `ort.Tensor#type` gives them (to check feeds, and to name types in errors). */
export const TENSOR_TYPE_NAMES: Readonly<Record<number, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.BFLOAT16]: 'bfloat16',
};

/** The floating-point element types: the only ones a gradient flows through. */
export const FLOAT_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

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

/** The ai.onnx opset version a model imports (0 when it imports none). */
export function onnxOpset(model: OnnxTypes.IModelProto): number {
  return toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
}

/** The number of elements of a tensor proto, from its dims. */
export function elementCount(t: OnnxTypes.ITensorProto): number {
  return (t.dims ?? []).reduce<number>((a, d) => a * toNumber(d), 1);
}

/** The float32 values of an initializer (raw little-endian bytes or `floatData`), as a fresh array. */
export function readFloatTensor(fn: string, t: OnnxTypes.ITensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) {
    throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} is not float32 (data type ${t.dataType})`);
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new GradpipeError(
      fn,
      `tensor ${JSON.stringify(t.name)} uses external data, which is not supported; save the model with its weights inside`,
    );
  }
  const count = elementCount(t);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    // Copy first: the raw bytes may sit at an offset that is not a multiple of 4 inside the decoded buffer.
    const bytes = new Uint8Array(raw); // a copy at offset 0 (Buffer#slice would be a view)
    const out = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    if (out.length !== count)
      throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} has ${out.length} values for ${count} elements`);
    return new Float32Array(out);
  }
  const data = Float32Array.from(t.floatData ?? []);
  if (data.length !== count)
    throw new GradpipeError(fn, `tensor ${JSON.stringify(t.name)} has ${data.length} values for ${count} elements`);
  return data;
}

/**
 * The values of a numeric or boolean tensor proto as JS numbers (int64 as numbers; exact up to 2^53), or
 * undefined for types we do not read (strings, float16) or external data. Used for small constants: shapes,
 * axes, pads, exponents.
 */
export function readNumbers(t: OnnxTypes.ITensorProto): number[] | undefined {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  const raw = t.rawData && t.rawData.length > 0 ? new Uint8Array(t.rawData) : undefined; // a copy at offset 0
  const view = (Ctor: { new (b: ArrayBuffer, o: number, n: number): ArrayLike<number | bigint> }, size: number) =>
    Array.from(new Ctor(raw!.buffer, 0, raw!.byteLength / size) as ArrayLike<number | bigint>, Number);
  switch (t.dataType) {
    case DataType.FLOAT:
      return raw ? view(Float32Array, 4) : (t.floatData ?? []).slice();
    case DataType.DOUBLE:
      return raw ? view(Float64Array, 8) : (t.doubleData ?? []).slice();
    case DataType.INT64:
      return raw ? view(BigInt64Array, 8) : (t.int64Data ?? []).map((v) => toNumber(v));
    case DataType.INT32:
      return raw ? view(Int32Array, 4) : (t.int32Data ?? []).slice();
    case DataType.UINT8:
    case DataType.BOOL:
      return raw ? Array.from(raw) : (t.int32Data ?? []).slice();
    case DataType.INT8:
      return raw ? view(Int8Array, 1) : (t.int32Data ?? []).slice();
    default:
      return undefined;
  }
}

/** The int64 values of a tensor (raw bytes or `int64Data`), as numbers. */
export function readInt64Tensor(t: OnnxTypes.ITensorProto): number[] {
  return readNumbers({ ...t, dataType: DataType.INT64 }) ?? [];
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

/** A floats attribute, or undefined when absent. */
export function floatsAttribute(node: OnnxTypes.INodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? [...(a.floats ?? [])] : undefined;
}

/** A string attribute (decoded as UTF-8), or `fallback` when absent. */
export function stringAttribute(node: OnnxTypes.INodeProto, name: string, fallback: string): string {
  const a = attribute(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

/** A strings attribute (decoded as UTF-8), or undefined when absent. */
export function stringsAttribute(node: OnnxTypes.INodeProto, name: string): string[] | undefined {
  const a = attribute(node, name);
  return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined;
}
