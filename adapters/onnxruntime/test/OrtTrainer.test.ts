import { agc, clipByGlobalNorm, GradientPipeline, nanGuard } from '@gradpipe/core';
import { adam, buildTrainingModel, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { fixtureTensors, loadFixture } from './fixtures.js';

const { onnx } = onnxProto;

async function regressionTrainer(pipeline?: GradientPipeline) {
  const { fixture, bytes } = loadFixture('mlp_activations_opset14');
  const trainer = await OrtTrainer.create(bytes, {
    loss: 'mse',
    optimizer: sgd({ lr: 0.05, momentum: 0.9 }),
    ...(pipeline ? { pipeline } : {}),
  });
  return { trainer, bytes, ...fixtureTensors(fixture) };
}

describe('OrtTrainer.step', () => {
  test('applies the clipped gradient: the first SGD step moves weights by exactly lr · clipped gradient', async () => {
    const { trainer, feeds, target } = await regressionTrainer(new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.1 })]));
    const before = trainer.parameters();
    const { grads } = await trainer.gradients(feeds, target);
    const { loss, skipped, applied, stats: maybeStats } = await trainer.step(feeds, target);
    expect(skipped).toBe(false);
    expect(applied).toBe(true);
    const stats = maybeStats!;
    expect(stats.clipped).toBe(true);
    expect(stats.normAfter).toBeLessThanOrEqual(0.1);
    expect(stats.loss).toBe(loss);
    const factor = stats.normAfter / stats.normBefore;
    const after = trainer.parameters();
    for (const [name, w] of Object.entries(before)) {
      w.forEach((v, i) => expect(after[name]![i]!).toBeCloseTo(v - 0.05 * grads[name]![i]! * factor, 6));
    }
    await trainer.release();
  });

  test('the loss goes down over a few steps on a fixed batch', async () => {
    const { trainer, feeds, target } = await regressionTrainer();
    const first = (await trainer.step(feeds, target)).loss;
    let last = first;
    for (let i = 0; i < 20; i++) last = (await trainer.step(feeds, target)).loss;
    expect(last).toBeLessThan(first * 0.9);
    await trainer.release();
  });

  test('a step skipped by nanGuard changes no weight and no optimizer state', async () => {
    const { trainer, feeds, target } = await regressionTrainer(new GradientPipeline([nanGuard({ policy: 'skip' })]));
    await trainer.step(feeds, target); // momentum buffers exist from here on
    const weights = trainer.parameters();
    const state = JSON.stringify(trainer.optimizer.toJSON());
    const poisoned = new ort.Tensor('float32', new Float32Array(feeds.input!.data as Float32Array).fill(Number.NaN), feeds.input!.dims);
    const result = await trainer.step({ input: poisoned }, target);
    expect(result.skipped).toBe(true);
    expect(result.stats!.nonFinite.length).toBeGreaterThan(0);
    expect(trainer.parameters()).toEqual(weights);
    expect(JSON.stringify(trainer.optimizer.toJSON())).toBe(state);
    await trainer.release();
  });

  test('AGC receives the parameters and [out, in] shapes', async () => {
    const { trainer, feeds, target } = await regressionTrainer(new GradientPipeline([agc({ clipping: 1e-3 })]));
    const { stats } = await trainer.step(feeds, target);
    expect(stats!.clipped).toBe(true);
    expect(trainer.signature.shapes['0.weight']).toEqual([7, 5]);
    await trainer.release();
  });

  test('saved after 3 steps and resumed from the export and the JSON, training is bit-identical', async () => {
    const { fixture, bytes } = loadFixture('classifier_logsoftmax_opset13');
    const { feeds, target } = fixtureTensors(fixture);
    const options = () => ({
      loss: 'crossEntropy' as const,
      optimizer: adam({ lr: 0.01 }),
      pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.5 })]),
    });
    const straight = await OrtTrainer.create(bytes, options());
    for (let i = 0; i < 6; i++) await straight.step(feeds, target);

    const first = await OrtTrainer.create(bytes, options());
    for (let i = 0; i < 3; i++) await first.step(feeds, target);
    const saved = JSON.parse(JSON.stringify(first.toJSON()));
    const resumed = await OrtTrainer.create(first.exportModel(), { loss: 'crossEntropy', state: saved });
    for (let i = 0; i < 3; i++) await resumed.step(feeds, target);

    expect(resumed.parameters()).toEqual(straight.parameters());
    expect(resumed.pipeline.stepCount).toBe(6);
    expect(resumed.toJSON()).toEqual(straight.toJSON());
    await Promise.all([straight.release(), first.release(), resumed.release()]);
  });

  test('the exported model gives the trainer predictions in a fresh InferenceSession', async () => {
    const { trainer, feeds, target } = await regressionTrainer();
    for (let i = 0; i < 5; i++) await trainer.step(feeds, target);
    const predicted = (await trainer.predict(feeds)).data as Float32Array;
    const session = await ort.InferenceSession.create(trainer.exportModel());
    const fresh = (await session.run(feeds)).output!.data as Float32Array;
    expect(fresh).toEqual(predicted);
    // and the trained weights are really in it
    const exported = onnx.ModelProto.decode(trainer.exportModel());
    const w = exported.graph!.initializer!.find((t) => t.name === '0.weight')!;
    expect(new Float32Array(new Uint8Array(w.rawData!).buffer)).toEqual(trainer.parameters()['0.weight']);
    await session.release();
    await trainer.release();
  });
});

describe('bad input', () => {
  test('clear errors for options, feeds and targets, naming the function and value', async () => {
    const { bytes, fixture } = loadFixture('mlp_relu_opset10');
    await expect(OrtTrainer.create(bytes, { loss: 'mae' as never, optimizer: sgd({ lr: 1 }) })).rejects.toThrow(
      `OrtTrainer.create: loss must be one of 'mse', 'crossEntropy', 'nll', 'bceWithLogits', 'l1', 'huber' or { output: '<scalar loss output>' }, got "mae"`,
    );
    await expect(OrtTrainer.create(bytes, { loss: 'mse' } as never)).rejects.toThrow(
      'OrtTrainer.create: optimizer must be an optimizer such as sgd({ lr: 0.01 }), got undefined',
    );
    await expect(OrtTrainer.create(new Uint8Array([1, 2, 3]), { loss: 'mse', optimizer: sgd({ lr: 1 }) })).rejects.toThrow(
      'OrtTrainer.create: model bytes are not an ONNX model',
    );
    await expect(OrtTrainer.create(bytes, { loss: 'mse', optimizer: sgd({ lr: 1 }), trainable: ['nope'] })).rejects.toThrow(
      'OrtTrainer.create: trainable "nope" is not an initializer of the model',
    );
    expect(() => buildTrainingModel(bytes, { loss: 'mse', trainable: '0.weight' as never })).toThrow(
      'buildTrainingModel: trainable must be an array of initializer names, got "0.weight"',
    );
    const trainer = await OrtTrainer.create(bytes, { loss: 'mse', optimizer: sgd({ lr: 1 }) });
    const { feeds, target } = fixtureTensors(fixture);
    const weights = trainer.parameters();
    await expect(trainer.step({ x: feeds.input! }, target)).rejects.toThrow(
      'OrtTrainer.step: feeds has no ort.Tensor for the model input "input"',
    );
    await expect(trainer.step(feeds, new ort.Tensor('int64', new BigInt64Array(16), [16]))).rejects.toThrow(
      "OrtTrainer.step: target must be a float32 ort.Tensor for loss 'mse', got a int64 tensor",
    );
    await expect(trainer.step(feeds, new ort.Tensor('float32', new Float32Array(48), [48]))).rejects.toThrow(
      "OrtTrainer.step: target must have shape [16, 3] for loss 'mse' and these feeds, got [48]",
    );
    expect(trainer.parameters()).toEqual(weights);
    const running = trainer.step(feeds, target);
    await expect(trainer.step(feeds, target)).rejects.toThrow('OrtTrainer.step: the previous step is still running');
    await running;
    expect(trainer.parameters()).not.toEqual(weights); // only the first, awaited step was applied
    await trainer.release();
  });

  test('every operator without a gradient rule on the path is named with its nodes, before anything is built', async () => {
    const node = (opType: string, name: string, input: string[], output: string[]) =>
      onnx.NodeProto.create({ opType, name, input, output });
    const graph = onnx.GraphProto.create({
      name: 'gaps',
      node: [
        node('MatMul', 'mm', ['x', 'W'], ['h']),
        node('Det', 'first_det', ['h'], ['d1']),
        node('Det', 'second_det', ['h'], ['d2']),
        node('Add', 'sum', ['d1', 'd2'], ['s']),
        node('Unique', 'unique', ['s'], ['u']),
        node('Gemm', 'last', ['u', 'W'], ['y']),
        // off the gradient path: no rule needed
        node('Det', 'unused_det', ['x'], ['z']),
      ],
      initializer: [onnx.TensorProto.create({ name: 'W', dims: [2, 2], dataType: 1, floatData: [1, 2, 3, 4] })],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 2 }] } } } }],
      output: [
        { name: 'y', type: { tensorType: { elemType: 1 } } },
        { name: 'z', type: { tensorType: { elemType: 1 } } },
      ],
    });
    const model = onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 14 }] });
    const bytes = onnx.ModelProto.encode(model).finish();
    const message = 'no gradient rule for Det (nodes "first_det", "second_det"), Unique (node "unique")';
    expect(() => buildTrainingModel(bytes, { loss: 'mse' })).toThrow(`buildTrainingModel: ${message}`);
    await expect(OrtTrainer.create(bytes, { loss: 'mse', optimizer: sgd({ lr: 1 }) })).rejects.toThrow(`OrtTrainer.create: ${message}`);
    const old = onnx.ModelProto.create({ irVersion: 3, graph, opsetImport: [{ domain: '', version: 7 }] });
    expect(() => buildTrainingModel(old, { loss: 'mse' })).toThrow(
      'buildTrainingModel: needs an ai.onnx opset of at least 9, the model has 7',
    );
  });
});
