// Shared by the hostile-input suite: values a careless or hostile caller passes, the domains they fall outside
// of, and a check that a call was refused the way the package promises (a GradpipeError, never a TypeError).

import { GradpipeError } from '@gradpipe/core';
import { isPlainObject } from '@gradpipe/core/internal';
import type { OrtTrainer } from '@gradpipe/onnxruntime';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

/** The fast-check settings of the suite: a fixed seed, so that a failure replays. */
export const FC = { seed: 20261202 } as const;

/**
 * The GradpipeError `run` throws (sync or async); anything else — success, a TypeError, ONNX Runtime's own
 * error — fails the test with what happened.
 */
export async function refusal(run: () => unknown): Promise<GradpipeError> {
  let result: unknown;
  try {
    result = await run();
  } catch (e) {
    if (e instanceof GradpipeError) return e;
    throw new Error(`expected a GradpipeError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error(`expected a refusal, but the call returned ${typeof result}`);
}

/** Values of every kind, the awkward ones first: the raw material of wrong options. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    undefined,
    Number.NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    -1,
    0.5,
    1.5,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    1n,
    4n,
    -1n,
    '',
    '1',
    'mean',
    'mse ',
    true,
    false,
    Symbol('s'),
    [],
    [1],
    [1, 2, 3],
    [null],
    {},
    { value: 1 },
    new Map([['a', 1]]),
    new Set([1]),
    new Float32Array(2),
    new Date(0),
    /x/,
    () => 1,
    Object.create(null),
  ),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.string(),
  fc.anything(),
);

/** Values outside a domain (undefined stays out: it means "absent", the default). */
export const wrongFor = (valid: (v: unknown) => boolean): fc.Arbitrary<unknown> => anyValue.filter((v) => v !== undefined && !valid(v));

// Domains, as the package documents them.
export const isNumber = (v: unknown): v is number => typeof v === 'number';
export const isInt32 = (v: unknown) => isNumber(v) && Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 - 1;
export const isSafeInteger = (v: unknown) => isNumber(v) && Number.isSafeInteger(v);
export const isCount = (v: unknown) => isSafeInteger(v) && (v as number) >= 1;
export const isNonNegativeFinite = (v: unknown) => isNumber(v) && Number.isFinite(v) && v >= 0;
export const isPositiveFinite = (v: unknown) => isNumber(v) && Number.isFinite(v) && v > 0;
export const isFinite = (v: unknown) => isNumber(v) && Number.isFinite(v);
export const inUnitInterval = (v: unknown) => isNumber(v) && v >= 0 && v <= 1;
export const isBoolean = (v: unknown) => typeof v === 'boolean';
export const isArray = (v: unknown) => Array.isArray(v);
export const isStringArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
export const oneOf =
  (...allowed: unknown[]) =>
  (v: unknown) =>
    allowed.includes(v);
export { isPlainObject };

/** A key one edit away from a known one (deleted, inserted, replaced or re-cased character), and not itself known. */
export const misspelling = (known: readonly string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(...known),
      fc.nat(),
      fc.constantFrom('delete', 'insert', 'replace', 'case'),
      fc.constantFrom(...'abcdeilnorstx_'),
    )
    .map(([key, at, edit, c]) => {
      const i = at % key.length;
      if (edit === 'delete') return key.slice(0, i) + key.slice(i + 1);
      if (edit === 'insert') return key.slice(0, i) + c + key.slice(i);
      if (edit === 'replace') return key.slice(0, i) + c + key.slice(i + 1);
      return key.slice(0, i) + (key[i] === key[i]!.toUpperCase() ? key[i]!.toLowerCase() : key[i]!.toUpperCase()) + key.slice(i + 1);
    })
    .filter((typo) => typo !== '' && !known.includes(typo));

/** The bytes of a tensor's data, to show that a refused call left the caller's arrays bit for bit as they were. */
export function bytesOf(tensor: ort.Tensor): Uint8Array {
  const data = tensor.data as unknown as ArrayBufferView;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** What a refused step must leave as it was: the weights, the running statistics and every piece of state. */
export function trainerSnapshot(trainer: OrtTrainer): string {
  const arrays = (r: Record<string, Float32Array>) =>
    Object.fromEntries(Object.entries(r).map(([n, a]) => [n, Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')]));
  return JSON.stringify({
    weights: arrays(trainer.parameters()),
    statistics: arrays(trainer.buffers()),
    state: trainer.toJSON(),
    lr: trainer.optimizer.lr,
  });
}

/** A float32 [n, width] tensor of a repeating pattern. */
export function floats(n: number, width: number, seed = 1): ort.Tensor {
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: n * width }, (_, i) => Math.sin(seed * 7.1 + i * 1.3)),
    [n, width],
  );
}

/** An int64 labels tensor. */
export function labels(...values: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [values.length]);
}

type Dim = { dimValue: number } | { dimParam: string } | Record<string, never>;
const info = (name: string, dims: Dim[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims } } } });

/**
 * `output = input + P` with P a trainable [3] — [batch, 3] logits or values. `batch` names the input's first dim
 * (`dim_param`), or, with `{}`, leaves it unnamed: the target's batch is then known only once the model ran.
 * `classes: 'named'` makes the second dim a named one too (P is then [1]), so that the classes are known only at
 * run time.
 */
export function addModel(options: { batch: Dim; classes?: 'static' | 'named' }): Uint8Array {
  const named = options.classes === 'named';
  const dims: Dim[] = [options.batch, named ? { dimParam: 'classes' } : { dimValue: 3 }];
  const graph = onnx.GraphProto.create({
    name: 'add',
    node: [onnx.NodeProto.create({ opType: 'Add', name: 'add', input: ['input', 'P'], output: ['output'] })],
    initializer: [onnx.TensorProto.create({ name: 'P', dims: [named ? 1 : 3], dataType: 1, floatData: named ? [0.1] : [0.1, -0.2, 0.3] })],
    input: [info('input', dims)],
    output: [info('output', dims)],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 17 }] })).finish();
}
