import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

/** A reference computed by make_fixtures.py with PyTorch in float64. */
export interface GradientFixture {
  model: string;
  loss: 'mse' | 'crossEntropy';
  opset: number;
  inputs: Record<string, { dims: number[]; data: number[] }>;
  target: { dims: number[]; data: number[] };
  expectedLoss: number;
  grads: Record<string, { dims: number[]; data: number[] }>;
}

export const GRADIENT_FIXTURES = [
  'mlp_relu_opset10',
  'mlp_activations_opset14',
  'classifier_logsoftmax_opset13',
  'classifier_softmax_opset11',
  'matmul_add_opset13',
  'gemm_attrs_opset17',
] as const;

const dir = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export function loadFixture(name: string): { fixture: GradientFixture; bytes: Uint8Array } {
  const fixture = JSON.parse(readFileSync(dir(`${name}.json`), 'utf8')) as GradientFixture;
  return { fixture, bytes: new Uint8Array(readFileSync(dir(fixture.model))) };
}

export function loadJson<T>(name: string): T {
  return JSON.parse(readFileSync(dir(name), 'utf8')) as T;
}

/** The fixture's batch as ort feeds, and its target tensor. */
export function fixtureTensors(f: GradientFixture): { feeds: Record<string, ort.Tensor>; target: ort.Tensor } {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(f.inputs)) feeds[name] = new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
  const target =
    f.loss === 'mse'
      ? new ort.Tensor('float32', Float32Array.from(f.target.data), f.target.dims)
      : new ort.Tensor(
          'int64',
          BigInt64Array.from(f.target.data, (v) => BigInt(v)),
          f.target.dims,
        );
  return { feeds, target };
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}
