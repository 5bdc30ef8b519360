// Targets and feeds a hostile caller passes to step, gradients and evaluate: other batch sizes, other shapes,
// labels out of range, other types. Each is refused with a GradpipeError before anything is used — whether the
// model names its batch dim (the feeds tell the target's shape before the run) or not (the shape is read from
// the run, before the step is used) — and a refused call leaves the trainer and the caller's arrays as they were.

import { GradientPipeline, linearWarmup, nanGuard } from '@gradpipe/core';
import { adam, mlpModel, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { addModel, bytesOf, FC, floats, labels, refusal, trainerSnapshot } from './support.js';

const { onnx } = onnxProto;

/** The models the target checks must hold on: a batch dim named, unnamed, and classes known only at run time. */
const MODELS = {
  'named batch': () => mlpModel({ sizes: [3, 4, 3] }),
  'unnamed batch': () => addModel({ batch: {} }),
  'named classes': () => addModel({ batch: { dimParam: 'batch' }, classes: 'named' }),
} as const;
type ModelName = keyof typeof MODELS;

const trainerFor = (name: ModelName, loss: 'mse' | 'crossEntropy', lossOptions = {}) =>
  OrtTrainer.create(MODELS[name](), { loss, lossOptions, optimizer: adam({ lr: 0.01 }) });

/** Runs `call`, expects a GradpipeError with `message`, and checks nothing changed: trainer, feeds, target. */
async function expectRefusedStep(trainer: OrtTrainer, feeds: Record<string, ort.Tensor>, target: ort.Tensor, message: string | RegExp) {
  const before = trainerSnapshot(trainer);
  const given = [...Object.values(feeds), target].map(bytesOf);
  const error = await refusal(() => trainer.step(feeds, target));
  expect(error.message).toMatch(
    typeof message === 'string' ? new RegExp(`^OrtTrainer\\.step: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) : message,
  );
  expect(trainerSnapshot(trainer)).toBe(before);
  expect([...Object.values(feeds), target].map(bytesOf)).toEqual(given);
}

describe.each(Object.keys(MODELS) as ModelName[])('%s: the cases of issue 13', (name) => {
  test('a target batch of 1 for a feed batch of 4 is refused, not broadcast', async () => {
    const trainer = await trainerFor(name, 'mse');
    expect(trainer.signature.predictionShape !== undefined).toBe(name === 'unnamed batch'); // checked after the run
    await trainer.step({ input: floats(4, 3) }, floats(4, 3, 2)); // momentum and a step count exist from here
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3) },
      floats(1, 3),
      "target must have shape [4, 3] for loss 'mse' and these feeds, got [1, 3]",
    );
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3) },
      floats(4, 1),
      "target must have shape [4, 3] for loss 'mse' and these feeds, got [4, 1]",
    );
    await trainer.release();
  });

  test('one label for a batch of 4, and 6 labels for a batch of 4, are refused by gradpipe (not ONNX Runtime)', async () => {
    const trainer = await trainerFor(name, 'crossEntropy');
    expect(trainer.signature.predictionShape !== undefined).toBe(name !== 'named batch');
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3) },
      labels(1),
      "target must have shape [4] for loss 'crossEntropy' and these feeds, got [1]",
    );
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3) },
      labels(0, 1, 2, 0, 1, 2),
      "target must have shape [4] for loss 'crossEntropy' and these feeds, got [6]",
    );
    await trainer.release();
  });

  test('labels 7 (of 3 classes) and -1 are refused; -1 trains as ignored when it is the ignoreIndex', async () => {
    const trainer = await trainerFor(name, 'crossEntropy');
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3) },
      labels(0, 1, 7, 0),
      'target labels must be in [0, 3) or the ignoreIndex -100, got 7 at index 2',
    );
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3) },
      labels(0, -1, 2, 0),
      'target labels must be in [0, 3) or the ignoreIndex -100, got -1 at index 1',
    );
    await trainer.release();

    const ignoring = await trainerFor(name, 'crossEntropy', { ignoreIndex: -1 });
    await expectRefusedStep(
      ignoring,
      { input: floats(4, 3) },
      labels(0, -100, 2, 0),
      'target labels must be in [0, 3) or the ignoreIndex -1, got -100 at index 1',
    );
    // the ignored row counts for nothing: the loss is the mean over the three others
    const all = await ignoring.gradients({ input: floats(4, 3) }, labels(0, -1, 2, 0));
    const rows = floats(4, 3).data as Float32Array;
    const without = new ort.Tensor('float32', Float32Array.from([...rows.slice(0, 3), ...rows.slice(6)]), [3, 3]);
    expect(all.loss).toBeCloseTo((await ignoring.gradients({ input: without }, labels(0, 2, 0))).loss, 6);
    expect((await ignoring.step({ input: floats(4, 3) }, labels(0, -1, 2, 0))).applied).toBe(true);
    await ignoring.release();
  });

  test('gradients and evaluate refuse the same targets', async () => {
    const trainer = await trainerFor(name, 'crossEntropy');
    for (const call of ['gradients', 'evaluate'] as const) {
      const fn = `OrtTrainer.${call}`;
      expect((await refusal(() => trainer[call]({ input: floats(4, 3) }, labels(0, 1, 2, 0, 1, 2)))).message).toBe(
        `${fn}: target must have shape [4] for loss 'crossEntropy' and these feeds, got [6]`,
      );
      expect((await refusal(() => trainer[call]({ input: floats(4, 3) }, labels(0, 1, 7, 0)))).message).toBe(
        `${fn}: target labels must be in [0, 3) or the ignoreIndex -100, got 7 at index 2`,
      );
    }
    await trainer.release();
  });
});

describe("any target: refused unless it has the prediction's shape and labels in range (property)", () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 3 });
  const cases = fc.record({ batch: fc.integer({ min: 2, max: 5 }), dims: shapeArb, seed: fc.integer({ min: 1, max: 1000 }) });

  test.each(Object.keys(MODELS) as ModelName[])('%s, mse', async (name) => {
    const trainer = await trainerFor(name, 'mse');
    await fc.assert(
      fc.asyncProperty(cases, async ({ batch, dims, seed }) => {
        const n = dims.reduce((a, b) => a * b, 1);
        const target = new ort.Tensor(
          'float32',
          Float32Array.from({ length: n }, (_, i) => Math.cos(seed + i)),
          dims,
        );
        const feeds = { input: floats(batch, 3, seed) };
        if (dims.length === 2 && dims[0] === batch && dims[1] === 3) {
          expect(Number.isFinite((await trainer.step(feeds, target)).loss)).toBe(true);
        } else {
          await expectRefusedStep(
            trainer,
            feeds,
            target,
            `target must have shape [${batch}, 3] for loss 'mse' and these feeds, got [${dims.join(', ')}]`,
          );
        }
      }),
      { ...FC, numRuns: 40 },
    );
    await trainer.release();
  });

  test.each(Object.keys(MODELS) as ModelName[])('%s, crossEntropy', async (name) => {
    const trainer = await trainerFor(name, 'crossEntropy');
    const labelsArb = fc.record({
      batch: fc.integer({ min: 2, max: 5 }),
      values: fc.array(fc.integer({ min: -3, max: 5 }), { minLength: 1, maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(labelsArb, async ({ batch, values }) => {
        const feeds = { input: floats(batch, 3, values.length) };
        const target = labels(...values);
        const bad = values.findIndex((v) => v < 0 || v >= 3);
        if (values.length !== batch) {
          await expectRefusedStep(
            trainer,
            feeds,
            target,
            `target must have shape [${batch}] for loss 'crossEntropy' and these feeds, got [${values.length}]`,
          );
        } else if (bad >= 0) {
          await expectRefusedStep(
            trainer,
            feeds,
            target,
            `target labels must be in [0, 3) or the ignoreIndex -100, got ${values[bad]} at index ${bad}`,
          );
        } else {
          expect(Number.isFinite((await trainer.step(feeds, target)).loss)).toBe(true);
        }
      }),
      { ...FC, numRuns: 40 },
    );
    await trainer.release();
  });
});

describe('feeds', () => {
  test('another type, another static dim, a missing or extra input, a non-tensor: refused before ONNX Runtime sees them', async () => {
    const trainer = await trainerFor('named batch', 'mse');
    const target = floats(4, 3);
    await expectRefusedStep(
      trainer,
      { input: new ort.Tensor('int64', new BigInt64Array(12), [4, 3]) },
      target,
      'feeds["input"] must be a float32 tensor, got a int64 tensor',
    );
    await expectRefusedStep(trainer, { input: floats(4, 5) }, target, 'feeds["input"] must have shape [batch, 3], got [4, 5]');
    await expectRefusedStep(
      trainer,
      { input: new ort.Tensor('float32', new Float32Array(12), [4, 3, 1]) },
      target,
      'feeds["input"] must have shape [batch, 3], got [4, 3, 1]',
    );
    await expectRefusedStep(
      trainer,
      { input: floats(4, 3), extra: floats(4, 3) },
      target,
      'feeds has "extra", which is not a model input (input)',
    );
    await expectRefusedStep(trainer, {}, target, 'feeds has no ort.Tensor for the model input "input"');
    for (const feeds of [null, 1n, floats(4, 3), 'input']) {
      expect((await refusal(() => trainer.step(feeds as never, target))).message).toMatch(
        /^OrtTrainer\.step: feeds must be an object of ort\.Tensor by input name \(input\), got /,
      );
    }
    for (const bad of [null, 1n, 'y', floats(4, 3).data]) {
      expect((await refusal(() => trainer.step({ input: floats(4, 3) }, bad as never))).message).toMatch(
        /^OrtTrainer\.step: target must be a float32 ort\.Tensor for loss 'mse', got /,
      );
    }
    expect((await refusal(() => trainer.predict({ input: floats(4, 5) }))).message).toBe(
      'OrtTrainer.predict: feeds["input"] must have shape [batch, 3], got [4, 5]',
    );
    await trainer.release();
  });

  test('one call at a time: a gradients(), evaluate() or predict() during a step is refused (they share the buffers)', async () => {
    const trainer = await trainerFor('named batch', 'mse');
    const running = trainer.step({ input: floats(4, 3) }, floats(4, 3));
    const message = 'the previous step is still running: await it before calling';
    expect((await refusal(() => trainer.gradients({ input: floats(4, 3) }, floats(4, 3)))).message).toBe(
      `OrtTrainer.gradients: ${message} OrtTrainer.gradients`,
    );
    expect((await refusal(() => trainer.evaluate({ input: floats(4, 3) }, floats(4, 3)))).message).toBe(
      `OrtTrainer.evaluate: ${message} OrtTrainer.evaluate`,
    );
    expect((await refusal(() => trainer.predict({ input: floats(4, 3) }))).message).toBe(
      `OrtTrainer.predict: ${message} OrtTrainer.predict`,
    );
    expect((await running).applied).toBe(true);
    const probing = trainer.gradients({ input: floats(4, 3) }, floats(4, 3));
    expect((await refusal(() => trainer.step({ input: floats(4, 3) }, floats(4, 3)))).message).toBe(
      'OrtTrainer.step: the previous OrtTrainer.gradients() is still running: await it before calling OrtTrainer.step',
    );
    await probing;
    await trainer.release();
  });

  test('a step refused after the run draws no Dropout masks: the generator is where it was', async () => {
    // x [batch, 3] → Dropout (training) → + y, y's first dim unnamed: the output's batch is known only once it ran.
    const info = (name: string, first: object) => ({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: [first, { dimValue: 3 }] } } },
    });
    const graph = onnx.GraphProto.create({
      name: 'dropout',
      node: [
        onnx.NodeProto.create({ opType: 'Dropout', name: 'drop', input: ['x', 'ratio', 'training'], output: ['d'] }),
        onnx.NodeProto.create({ opType: 'Mul', name: 'scale', input: ['d', 'W'], output: ['s'] }),
        onnx.NodeProto.create({ opType: 'Add', name: 'add', input: ['s', 'y'], output: ['output'] }),
      ],
      initializer: [
        onnx.TensorProto.create({ name: 'W', dims: [3], dataType: 1, floatData: [1, 2, 3] }),
        onnx.TensorProto.create({ name: 'ratio', dims: [], dataType: 1, floatData: [0.5] }),
        onnx.TensorProto.create({ name: 'training', dims: [], dataType: 9, int32Data: [1] }),
      ],
      input: [info('x', { dimParam: 'batch' }), info('y', {})],
      output: [{ name: 'output', type: { tensorType: { elemType: 1 } } }],
    });
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 17 }] }),
    ).finish();
    const trainer = await OrtTrainer.create(bytes, { loss: 'mse', optimizer: sgd({ lr: 0.1 }), seed: 3 });
    expect(trainer.signature.dropout).toHaveLength(1);
    expect(trainer.signature.predictionShape).toBeDefined();
    await expectRefusedStep(
      trainer,
      { x: floats(4, 3), y: floats(4, 3) },
      floats(1, 3),
      "target must have shape [4, 3] for loss 'mse' and these feeds, got [1, 3]",
    );
    await trainer.release();
  });
});

describe('updates the pipeline refuses', () => {
  const poisoned = () => new ort.Tensor('float32', new Float32Array(12).fill(Number.NaN), [4, 3]);

  test.each(['skip', 'throw'] as const)(
    'nanGuard %s with a schedule: the optimizer (its lr included) and the weights stay as they were',
    async (policy) => {
      const trainer = await OrtTrainer.create(MODELS['named batch'](), {
        loss: 'mse',
        optimizer: adam({ lr: 0.01 }),
        schedule: linearWarmup({ peak: 0.01, warmupSteps: 4 }),
        pipeline: new GradientPipeline([nanGuard({ policy })]),
      });
      await trainer.step({ input: floats(4, 3) }, floats(4, 3, 2));
      await trainer.step({ input: floats(4, 3) }, floats(4, 3, 2));
      const weights = trainer.parameters();
      const optimizer = JSON.stringify(trainer.optimizer.toJSON());
      if (policy === 'skip') expect((await trainer.step({ input: poisoned() }, floats(4, 3))).skipped).toBe(true);
      else await refusal(() => trainer.step({ input: poisoned() }, floats(4, 3)));
      expect(trainer.parameters()).toEqual(weights);
      expect(JSON.stringify(trainer.optimizer.toJSON())).toBe(optimizer);
      expect(trainer.updateCount).toBe(2);
      await trainer.release();
    },
  );
});
