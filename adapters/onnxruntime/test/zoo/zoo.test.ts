// The model zoo: ordinary PyTorch 1.13 exports (fixtures/zoo/make_zoo.py), each compared with PyTorch's float64
// loss and gradients on the same batch (and, for training-mode Dropout, the same masks), then trained.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { adam, buildTrainingModel, OrtTrainer } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, test } from 'vitest';
import { relativeError } from '../fixtures.js';

interface TensorJson {
  dims: number[];
  data: number[];
  type?: 'int64';
}
interface ZooFixture {
  model: string;
  loss: 'mse' | 'crossEntropy';
  opset: number;
  mode: 'train' | 'eval';
  inputs: Record<string, TensorJson>;
  target: TensorJson;
  expectedLoss: number;
  grads: Record<string, TensorJson> | null;
  masks?: TensorJson[];
  buffersAfter?: Record<string, TensorJson>;
}

const ZOO = [
  'lenet',
  'lenet_batchnorm_train',
  'lenet_batchnorm_eval',
  'resnet_block_train',
  'lstm_rows',
  'gru_state',
  'bilstm_rows',
  'rnn_tanh_2layers',
  'layernorm_mlp_train',
  'layernorm_mlp_opset17',
  'embedding_mean',
  'transformer_train',
  'transformer_eval',
  'conv1d_sequence',
  'vector_matmul',
  'lenet_opset11',
  'lstm_rows_opset11',
  'resnet_block_train_opset12',
  'layernorm_mlp_train_opset12',
  'transformer_train_opset13',
] as const;

const dir = (file: string) => fileURLToPath(new URL(`../fixtures/zoo/${file}`, import.meta.url));
function load(name: string): { f: ZooFixture; bytes: Uint8Array } {
  const f = JSON.parse(readFileSync(dir(`${name}.json`), 'utf8')) as ZooFixture;
  return { f, bytes: new Uint8Array(readFileSync(dir(f.model))) };
}
const tensor = (t: TensorJson) =>
  t.type === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(t.data, (v) => BigInt(v)),
        t.dims,
      )
    : new ort.Tensor('float32', Float32Array.from(t.data), t.dims);

const TOLERANCE = 1e-4;
const worst: Record<string, number> = {};
afterAll(() => console.log('zoo: worst relative gradient error vs PyTorch float64:', JSON.stringify(worst)));

describe('what export modes change', () => {
  test('eval-mode export merges equal initializers: the signature names them with the nodes that share them', () => {
    const { shared } = buildTrainingModel(load('layernorm_mlp_opset17').bytes, { loss: 'mse' }).signature;
    // two LayerNorm weights (ones) and biases (zeros) became one initializer each
    expect(Object.keys(shared).sort()).toEqual(['ln1.bias', 'ln1.weight']);
    expect([...shared['ln1.weight']!].sort()).toEqual(['/ln1/LayerNormalization', '/ln2/LayerNormalization']);
    expect(Object.keys(buildTrainingModel(load('transformer_eval').bytes, { loss: 'mse' }).signature.shared).length).toBeGreaterThan(0);
    expect(buildTrainingModel(load('transformer_train').bytes, { loss: 'mse' }).signature.shared).toEqual({});
  });

  test('training-mode BatchNorm updates its running statistics as PyTorch does, and predict() uses them', async () => {
    for (const name of ['lenet_batchnorm_train', 'resnet_block_train']) {
      const { f, bytes } = load(name);
      const trainer = await OrtTrainer.create(bytes, { loss: f.loss, optimizer: adam({ lr: 1e-3 }) });
      expect(trainer.signature.runningStatistics.length).toBe(2);
      const before = trainer.buffers();
      const feeds = { input: tensor(f.inputs.input!) };
      const predictedBefore = (await trainer.predict(feeds)).data as Float32Array;
      await trainer.step(feeds, tensor(f.target));
      const after = trainer.buffers();
      for (const [buffer, expected] of Object.entries(f.buffersAfter!)) {
        if (!(buffer in after)) continue; // num_batches_tracked is not a float statistic
        expect(relativeError(after[buffer]!, expected.data), buffer).toBeLessThan(1e-5);
        expect(after[buffer]).not.toEqual(before[buffer]);
      }
      // inference form: the same batch predicted with the new statistics (and weights) differs
      expect((await trainer.predict(feeds)).data).not.toEqual(predictedBefore);
      await trainer.release();
    }
  });
});

describe.each(ZOO)('%s', (name) => {
  test('loss and every gradient match PyTorch (float64) within 1e-4 relative', async () => {
    const { f, bytes } = load(name);
    const tm = buildTrainingModel(bytes, { loss: f.loss });
    const session = await ort.InferenceSession.create(tm.bytes);
    const feeds: Record<string, ort.Tensor> = { input: tensor(f.inputs.input!), [tm.signature.target!]: tensor(f.target) };
    for (const [n, w] of Object.entries(tm.initialParameters)) feeds[n] = new ort.Tensor('float32', w, tm.signature.shapes[n]);
    // Training-mode Dropout: the masks PyTorch drew, scaled as the trainer scales them.
    expect(tm.signature.dropout.length).toBe(f.masks?.length ?? 0);
    tm.signature.dropout.forEach((d, k) => {
      const mask = f.masks![k]!;
      feeds[d.input] = new ort.Tensor(
        'float32',
        Float32Array.from(mask.data, (m) => m * Math.fround(1 / (1 - d.ratio))),
        mask.dims,
      );
    });
    const out = await session.run(feeds);
    const loss = Number(out[tm.signature.loss]!.data[0]);
    expect(Math.abs(loss - f.expectedLoss) / f.expectedLoss).toBeLessThan(TOLERANCE);
    if (f.grads) {
      expect(Object.keys(tm.signature.gradients).sort()).toEqual(Object.keys(f.grads).sort());
      // Relative to the tensor's largest gradient — or, for a gradient that is exactly 0 in exact arithmetic (a
      // conv bias before training-mode BatchNorm), to a hundredth of the model's largest.
      const largest = Math.max(...Object.values(f.grads).flatMap((g) => g.data.map(Math.abs)));
      let max = 0;
      for (const [param, expected] of Object.entries(f.grads)) {
        expect(tm.signature.shapes[param]).toEqual(expected.dims);
        const scale = Math.max(...expected.data.map(Math.abs), 1e-2 * largest);
        const actual = out[tm.signature.gradients[param]!]!.data as Float32Array;
        const error = Math.max(...expected.data.map((e, i) => Math.abs(actual[i]! - e))) / scale;
        expect(error, param).toBeLessThan(TOLERANCE);
        max = Math.max(max, error);
      }
      worst[name] = max;
    }
    await session.release();
  });

  test('20 clipped Adam steps on the batch lower the loss', async () => {
    const { f, bytes } = load(name);
    const trainer = await OrtTrainer.create(bytes, {
      loss: f.loss,
      optimizer: adam({ lr: 0.01 }),
      pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
      seed: 3,
    });
    const feeds = { input: tensor(f.inputs.input!) };
    const target = tensor(f.target);
    const first = (await trainer.step(feeds, target)).loss;
    let last = first;
    for (let i = 0; i < 19; i++) last = (await trainer.step(feeds, target)).loss;
    expect(last).toBeLessThan(first * 0.9);
    // The exported inference model runs in a fresh session and gives the trainer's predictions.
    // (Weights fed as inputs and weights stored as initializers may take different kernels: float32 rounding apart.)
    const predicted = (await trainer.predict(feeds)).data as Float32Array;
    const fresh = await ort.InferenceSession.create(trainer.exportModel());
    expect(relativeError((await fresh.run(feeds)).output!.data as Float32Array, predicted)).toBeLessThan(1e-5);
    await Promise.all([fresh.release(), trainer.release()]);
  });
});
