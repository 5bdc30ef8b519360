// Training-mode models in the trainer: Dropout masks (fresh, seeded, resumable), dynamic batch sizes,
// inference-form predict and export, and resuming a training-mode model.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adam, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';

const { onnx } = onnxProto;
const zoo = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/zoo/${name}.onnx`, import.meta.url))));
const normal = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2;
  });
};
const batchOf = (n: number, seed = 1) => ({ input: new ort.Tensor('float32', normal(n * 12, seed), [n, 12]) });
const targetOf = (n: number, seed = 2) => new ort.Tensor('float32', normal(n * 3, seed), [n, 3]);

describe('training-mode Dropout', () => {
  test('a fresh mask every step, the same sequence from the same seed, another from another seed', async () => {
    const losses = async (seed: number) => {
      const trainer = await OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: sgd({ lr: 1e-9 }), seed });
      const out: number[] = [];
      for (let i = 0; i < 4; i++) out.push((await trainer.gradients(batchOf(8), targetOf(8))).loss);
      await trainer.release();
      return out;
    };
    const a = await losses(5);
    expect(new Set(a).size).toBe(4); // the same batch, a different mask each time
    expect(await losses(5)).toEqual(a);
    expect(await losses(6)).not.toEqual(a);
  });

  test('drops the ratio of the units and scales the rest by 1/(1 − ratio)', async () => {
    const trainer = await OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: sgd({ lr: 0.1 }) });
    const [mask] = trainer.signature.dropout;
    expect(mask!.ratio).toBeCloseTo(0.25, 6);
    expect(mask!.dims).toEqual(['batch', 16]);
    // The masks the trainer feeds, drawn the way step() draws them.
    const draw = (trainer as unknown as { masks: { draw(sizes: Map<string, number>): Record<string, ort.Tensor> } }).masks.draw(
      new Map([['batch', 2000]]),
    );
    const values = draw[mask!.input]!.data as Float32Array;
    expect(values.length).toBe(2000 * 16);
    const kept = values.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
    expect(Math.abs(kept.length / values.length - 0.75)).toBeLessThan(0.01);
    await trainer.release();
  });

  test('predict() and the exported model run without dropout: the same input, the same output', async () => {
    const trainer = await OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: adam({ lr: 0.01 }) });
    for (let i = 0; i < 3; i++) await trainer.step(batchOf(8), targetOf(8));
    const first = (await trainer.predict(batchOf(8))).data;
    expect((await trainer.predict(batchOf(8))).data).toEqual(first);
    const exported = onnx.ModelProto.decode(trainer.exportModel());
    const dropout = exported.graph!.node!.find((n) => n.opType === 'Dropout')!;
    expect(dropout.input).toHaveLength(2); // training_mode removed: the identity
    const session = await ort.InferenceSession.create(trainer.exportModel());
    const out = (await session.run(batchOf(8))).output!.data as Float32Array;
    (first as Float32Array).forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
    await Promise.all([session.release(), trainer.release()]);
  });

  test('resumed from the training-form export and the JSON (with the generator), training is bit-identical', async () => {
    const options = () => ({ loss: 'mse' as const, optimizer: adam({ lr: 0.01 }), seed: 9 });
    const straight = await OrtTrainer.create(zoo('layernorm_mlp_train'), options());
    for (let i = 0; i < 6; i++) await straight.step(batchOf(8, i), targetOf(8, i));
    const first = await OrtTrainer.create(zoo('layernorm_mlp_train'), options());
    for (let i = 0; i < 3; i++) await first.step(batchOf(8, i), targetOf(8, i));
    const state = JSON.parse(JSON.stringify(first.toJSON()));
    expect(state.rng).toHaveLength(4);
    const resumed = await OrtTrainer.create(first.exportModel({ mode: 'training' }), { loss: 'mse', state });
    for (let i = 3; i < 6; i++) await resumed.step(batchOf(8, i), targetOf(8, i));
    expect(resumed.parameters()).toEqual(straight.parameters());
    await Promise.all([straight.release(), first.release(), resumed.release()]);
  });

  test('a corrupt generator state is refused at create', async () => {
    const trainer = await OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: sgd({ lr: 0.1 }) });
    const state = { ...trainer.toJSON(), rng: [1, 2, 'x'] };
    await expect(OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', state: state as never })).rejects.toThrow(
      'OrtTrainer.create: state.rng must be the four 32-bit integers of a saved generator state, got Array(3)',
    );
    await expect(OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: sgd({ lr: 0.1 }), seed: 1.5 })).rejects.toThrow(
      'OrtTrainer.create: seed must be an integer',
    );
    await trainer.release();
  });
});

describe('a dynamic batch axis', () => {
  test.each(['transformer_train', 'lstm_rows', 'lenet_batchnorm_train', 'embedding_mean'])(
    '%s trains on batches of 3, 8 and 1',
    async (name) => {
      const trainer = await OrtTrainer.create(zoo(name), {
        loss: name === 'transformer_train' ? 'mse' : 'crossEntropy',
        optimizer: adam({ lr: 1e-3 }),
      });
      for (const n of name === 'lenet_batchnorm_train' ? [3, 8, 2] : [3, 8, 1]) {
        const dims = {
          transformer_train: [n, 5, 16],
          lstm_rows: [n, 28, 28],
          lenet_batchnorm_train: [n, 1, 28, 28],
          embedding_mean: [n, 7],
        }[name]!;
        const size = dims.reduce((a, b) => a * b, 1);
        const input =
          name === 'embedding_mean'
            ? new ort.Tensor(
                'int64',
                BigInt64Array.from({ length: size }, (_, i) => BigInt(i % 30)),
                dims,
              )
            : new ort.Tensor('float32', normal(size, n), dims);
        const target =
          name === 'transformer_train'
            ? new ort.Tensor('float32', normal(n * 3, 7), [n, 3])
            : new ort.Tensor(
                'int64',
                BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3)),
                [n],
              );
        const { loss, stats } = await trainer.step({ input }, target);
        expect(Number.isFinite(loss)).toBe(true);
        expect(stats!.normBefore).toBeGreaterThan(0);
      }
      await trainer.release();
    },
  );

  test('training-mode BatchNorm refuses one value per channel, as PyTorch does, and changes nothing', async () => {
    // BatchNorm1d on [batch, 3] features, training_mode 1 (opset 15)
    const tensor = (name: string, values: number[]) => onnx.TensorProto.create({ name, dims: [3], dataType: 1, floatData: values });
    const graph = onnx.GraphProto.create({
      name: 'bn1d',
      node: [
        onnx.NodeProto.create({
          opType: 'BatchNormalization',
          name: 'bn',
          input: ['input', 's', 'b', 'm', 'v'],
          output: ['output'],
          attribute: [{ name: 'training_mode', type: 2, i: 1 }],
        }),
      ],
      initializer: [tensor('s', [1, 2, 3]), tensor('b', [0, 0, 0]), tensor('m', [0, 0, 0]), tensor('v', [1, 1, 1])],
      input: [{ name: 'input', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } } }],
      output: [{ name: 'output', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } } }],
    });
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 15 }] }),
    ).finish();
    const trainer = await OrtTrainer.create(bytes, { loss: 'mse', optimizer: adam({ lr: 1e-3 }) });
    expect(Object.keys(trainer.signature.gradients)).toEqual(['s', 'b']);
    const weights = trainer.parameters();
    const buffers = trainer.buffers();
    const one = new ort.Tensor('float32', normal(3, 3), [1, 3]);
    await expect(trainer.step({ input: one }, new ort.Tensor('float32', normal(3, 4), [1, 3]))).rejects.toThrow(
      'OrtTrainer.step: BatchNormalization "bn" in training needs more than one value per channel (as in PyTorch): use a batch larger than 1',
    );
    expect(trainer.parameters()).toEqual(weights);
    expect(trainer.buffers()).toEqual(buffers);
    await trainer.step({ input: new ort.Tensor('float32', normal(6, 3), [2, 3]) }, new ort.Tensor('float32', normal(6, 4), [2, 3]));
    expect(trainer.buffers()).not.toEqual(buffers);
    await trainer.release();
  });
});
