// Every loss and option against torch.nn.functional (fixtures/losses/make_losses.py, float64): the value and
// d(loss)/d(prediction), through the trainer (the prediction is a trainable initializer added to a zero input).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LossName, LossOptions } from '@gradpipe/onnxruntime';
import { OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { relativeError } from './fixtures.js';

const { onnx } = onnxProto;

interface LossCase {
  name: string;
  loss: LossName;
  options: LossOptions;
  prediction: { dims: number[]; data: number[] };
  target: { dims: number[]; data: number[]; type: 'int64' | 'float32' };
  value: number;
  grad: number[];
}
const { cases } = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/losses/losses.json', import.meta.url)), 'utf8')) as {
  cases: LossCase[];
};

/** output = input + P, with P the prediction as a trainable initializer (input: zeros, dynamic batch). */
function modelFor(dims: number[], values: number[]): Uint8Array {
  const info = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, ...dims.slice(1).map((d) => ({ dimValue: d }))] } } },
  });
  const graph = onnx.GraphProto.create({
    name: 'prediction',
    node: [onnx.NodeProto.create({ opType: 'Add', name: 'add', input: ['input', 'P'], output: ['output'] })],
    initializer: [onnx.TensorProto.create({ name: 'P', dims, dataType: 1, rawData: new Uint8Array(Float32Array.from(values).buffer) })],
    input: [info('input')],
    output: [info('output')],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 17 }] })).finish();
}
const targetTensor = (t: LossCase['target']) =>
  t.type === 'int64'
    ? new ort.Tensor(
        'int64',
        BigInt64Array.from(t.data, (v) => BigInt(v)),
        t.dims,
      )
    : new ort.Tensor('float32', Float32Array.from(t.data), t.dims);

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test('value and gradient match torch.nn.functional (float64) within 1e-5', async () => {
    const trainer = await OrtTrainer.create(modelFor(c.prediction.dims, c.prediction.data), {
      loss: c.loss,
      lossOptions: c.options,
      optimizer: sgd({ lr: 0.1 }),
    });
    const zeros = new ort.Tensor('float32', new Float32Array(c.prediction.data.length), c.prediction.dims);
    const { loss, grads } = await trainer.gradients({ input: zeros }, targetTensor(c.target));
    expect(Math.abs(loss - c.value) / Math.max(Math.abs(c.value), 1e-6)).toBeLessThan(1e-5);
    expect(relativeError(grads.P!, c.grad)).toBeLessThan(1e-5);
    await trainer.release();
  });
});

describe('targets are checked on every step, and a refused step changes nothing', () => {
  const classifier = () =>
    OrtTrainer.create(
      modelFor(
        [4, 3],
        Array.from({ length: 12 }, (_, i) => i / 10),
      ),
      { loss: 'crossEntropy', optimizer: sgd({ lr: 0.1 }) },
    );
  const zeros = (n: number) => ({ input: new ort.Tensor('float32', new Float32Array(n * 3), [n, 3]) });
  const labels = (...v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [v.length]);

  test('batch size, label range and ignoreIndex', async () => {
    const trainer = await classifier();
    const before = trainer.parameters();
    await expect(trainer.step(zeros(4), labels(1))).rejects.toThrow(
      "OrtTrainer.step: target must have shape [4] for loss 'crossEntropy' and these feeds, got [1]",
    );
    await expect(trainer.step(zeros(4), labels(0, 1, 2, 0, 1, 2))).rejects.toThrow('target must have shape [4]');
    await expect(trainer.step(zeros(4), labels(0, 1, 7, 0))).rejects.toThrow(
      'OrtTrainer.step: target labels must be in [0, 3) or the ignoreIndex -100, got 7 at index 2',
    );
    await expect(trainer.step(zeros(4), labels(0, -1, 2, 0))).rejects.toThrow('got -1 at index 1');
    await expect(trainer.step(zeros(4), new ort.Tensor('float32', new Float32Array(4), [4]))).rejects.toThrow(
      "target must be a int64 ort.Tensor for loss 'crossEntropy', got a float32 tensor",
    );
    expect(trainer.parameters()).toEqual(before);
    // the ignored label is fine
    await trainer.step(zeros(4), labels(2, -100, 0, 1));
    expect(trainer.parameters()).not.toEqual(before);
    await trainer.release();
  });

  test('options that do not apply, or bad values, are refused at create', async () => {
    const model = modelFor([2, 3], [0, 0, 0, 0, 0, 0]);
    const create = (loss: LossName, lossOptions: unknown) =>
      OrtTrainer.create(model, { loss, lossOptions: lossOptions as LossOptions, optimizer: sgd({ lr: 1 }) });
    await expect(create('mse', { delta: 2 })).rejects.toThrow("OrtTrainer.create: lossOptions.delta applies to 'huber', not to 'mse'");
    await expect(create('crossEntropy', { labelSmoothing: 1.5 })).rejects.toThrow(
      'OrtTrainer.create: lossOptions.labelSmoothing must be a number in [0, 1], got 1.5',
    );
    await expect(create('crossEntropy', { weight: [1, 2] })).rejects.toThrow(
      'OrtTrainer.create: lossOptions.weight has 2 entries for 3 classes',
    );
    await expect(create('mse', { reduce: 'sum' })).rejects.toThrow('OrtTrainer.create: unknown option "reduce"');
    await expect(create('mse', { reduction: 'none' })).rejects.toThrow(
      "OrtTrainer.create: lossOptions.reduction must be 'mean' or 'sum', got \"none\"",
    );
    await expect(create('huber', { delta: -1 })).rejects.toThrow(
      'OrtTrainer.create: lossOptions.delta must be a positive finite number, got -1',
    );
    await expect(create('kl' as LossName, {})).rejects.toThrow(
      "OrtTrainer.create: loss must be one of 'mse', 'crossEntropy', 'nll', 'bceWithLogits', 'l1', 'huber' or { output: '<scalar loss output>' }, got \"kl\"",
    );
  });
});
