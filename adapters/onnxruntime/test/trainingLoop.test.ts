// The training loop: schedules, accumulation, evaluation, checkpoints.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipByGlobalNorm, cosineDecay, GradientPipeline, linearWarmup, nanGuard } from '@gradpipe/core';
import { adam, adamw, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { fixtureTensors, loadFixture } from './fixtures.js';

const zoo = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/zoo/${name}.onnx`, import.meta.url))));
const uniform = (n: number, seed: number) => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2;
  });
};
const mlpBatch = (n: number, seed: number) => ({
  feeds: { input: new ort.Tensor('float32', uniform(n * 12, seed), [n, 12]) },
  target: new ort.Tensor('float32', uniform(n * 3, seed + 1), [n, 3]),
});
const tmp = () => mkdtempSync(join(tmpdir(), 'gradpipe-ckpt-'));

describe('learning-rate schedules', () => {
  test('the schedule sets the lr of every update, counted in applied updates; a warm-up from 0 moves nothing', async () => {
    const { fixture, bytes } = loadFixture('mlp_activations_opset14');
    const { feeds, target } = fixtureTensors(fixture);
    const schedule = linearWarmup({ peak: 0.1, warmupSteps: 4 });
    const trainer = await OrtTrainer.create(bytes, {
      loss: 'mse',
      optimizer: sgd({ lr: 0.1 }),
      schedule,
      pipeline: new GradientPipeline([nanGuard({ policy: 'skip' })]),
    });
    const before = trainer.parameters();
    const first = await trainer.step(feeds, target);
    expect(first.stats!.lr).toBe(0);
    expect(trainer.parameters()).toEqual(before); // lr 0
    const lrs: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) lrs.push((await trainer.step(feeds, target)).stats!.lr);
    [0.025, 0.05, 0.075, 0.1].forEach((lr, i) => expect(lrs[i]).toBeCloseTo(lr, 15));
    // a skipped update does not advance the schedule
    const poisoned = new ort.Tensor('float32', new Float32Array(feeds.input!.data as Float32Array).fill(Number.NaN), feeds.input!.dims);
    const skipped = await trainer.step({ input: poisoned }, target);
    expect(skipped.skipped).toBe(true);
    expect(trainer.updateCount).toBe(5);
    await trainer.release();
  });
});

describe('gradient accumulation', () => {
  test('k micro-batches make one update on their mean gradient: the same as one step on the whole batch', async () => {
    const { fixture, bytes } = loadFixture('mlp_activations_opset14'); // batch 16
    const { feeds, target } = fixtureTensors(fixture);
    const half = (t: ort.Tensor, part: number) => {
      const row = t.dims.slice(1).reduce((a, b) => a * b, 1);
      return new ort.Tensor('float32', (t.data as Float32Array).slice(part * 8 * row, (part + 1) * 8 * row), [8, ...t.dims.slice(1)]);
    };
    const pipeline = () => new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.05 })]);
    const whole = await OrtTrainer.create(bytes, { loss: 'mse', optimizer: adam({ lr: 0.01 }), pipeline: pipeline() });
    const accumulating = await OrtTrainer.create(bytes, {
      loss: 'mse',
      optimizer: adam({ lr: 0.01 }),
      pipeline: pipeline(),
      accumulate: 2,
    });
    const before = accumulating.parameters();
    const a = await accumulating.step({ input: half(feeds.input!, 0) }, half(target, 0));
    expect(a).toMatchObject({ applied: false, skipped: false, stats: undefined });
    expect(accumulating.parameters()).toEqual(before);
    const b = await accumulating.step({ input: half(feeds.input!, 1) }, half(target, 1));
    const w = await whole.step(feeds, target);
    expect(b.applied).toBe(true);
    // clipped once, on the accumulated gradient, whose norm is the whole batch's
    expect(b.stats!.normBefore).toBeCloseTo(w.stats!.normBefore, 5);
    expect(b.stats!.clipped).toBe(true);
    expect(b.stats!.loss).toBeCloseTo((a.loss + b.loss) / 2, 6);
    const [x, y] = [accumulating.parameters(), whole.parameters()];
    for (const name of Object.keys(x)) x[name]!.forEach((v, i) => expect(v).toBeCloseTo(y[name]![i]!, 5));
    expect(accumulating.pipeline.stepCount).toBe(1);
    await Promise.all([whole.release(), accumulating.release()]);
  });
});

describe('evaluate', () => {
  test('the loss with no update, in inference form: BatchNorm with its running statistics, no Dropout', async () => {
    const trainer = await OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: adam({ lr: 1e-2 }) });
    const { feeds, target } = mlpBatch(8, 3);
    for (let i = 0; i < 3; i++) await trainer.step(feeds, target);
    const weights = trainer.parameters();
    const evaluated = await trainer.evaluate(feeds, target);
    expect(await trainer.evaluate(feeds, target)).toBe(evaluated); // no Dropout: the same twice
    expect(trainer.parameters()).toEqual(weights);
    const predicted = (await trainer.predict(feeds)).data as Float32Array;
    const t = target.data as Float32Array;
    const mse = predicted.reduce((s, p, i) => s + (p - t[i]!) ** 2, 0) / t.length;
    expect(evaluated).toBeCloseTo(mse, 6);
    await trainer.release();
  });

  test('with training-mode BatchNorm the evaluation uses the running statistics, not the batch', async () => {
    const trainer = await OrtTrainer.create(zoo('resnet_block_train'), { loss: 'crossEntropy', optimizer: adam({ lr: 1e-3 }) });
    const input = new ort.Tensor(
      'float32',
      uniform(4 * 4 * 64, 9).map((v) => v * 3 + 1),
      [4, 4, 8, 8],
    );
    const labels = new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 1n]), [4]);
    const { loss: training } = await trainer.gradients({ input }, labels);
    expect(Math.abs((await trainer.evaluate({ input }, labels)) - training)).toBeGreaterThan(1e-3);
    await expect(trainer.evaluate({ input }, new ort.Tensor('int64', BigInt64Array.from([0n, 9n, 2n, 1n]), [4]))).rejects.toThrow(
      'OrtTrainer.evaluate: target labels must be in [0, 3)',
    );
    await trainer.release();
  });
});

describe('save and load', () => {
  test('a run saved mid-accumulation (schedule, Dropout, param groups) and loaded resumes bit-identically', async () => {
    const options = () => ({
      loss: 'mse' as const,
      optimizer: adamw({ lr: 1e-2, groups: [{ params: /bias$|ln/, weightDecay: 0 }] }),
      pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.5 })]),
      schedule: cosineDecay({ peak: 1e-2, warmupSteps: 2, decaySteps: 10 }),
      accumulate: 2,
      seed: 4,
    });
    const batches = Array.from({ length: 9 }, (_, i) => mlpBatch(8, 10 + i));
    const straight = await OrtTrainer.create(zoo('layernorm_mlp_train'), options());
    for (const { feeds, target } of batches) await straight.step(feeds, target);

    const first = await OrtTrainer.create(zoo('layernorm_mlp_train'), options());
    for (const { feeds, target } of batches.slice(0, 5)) await first.step(feeds, target); // 2 updates + 1 micro-batch
    const dir = tmp();
    await first.save(dir);
    const resumed = await OrtTrainer.load(dir, { loss: 'mse' });
    expect(resumed.updateCount).toBe(2);
    expect(resumed.schedule!.kind).toBe('cosineDecay');
    for (const { feeds, target } of batches.slice(5)) await resumed.step(feeds, target);
    expect(resumed.parameters()).toEqual(straight.parameters());
    expect(resumed.toJSON()).toEqual(straight.toJSON());
    await Promise.all([straight.release(), first.release(), resumed.release()]);
  });

  test('training-mode BatchNorm statistics travel in the checkpoint', async () => {
    const trainer = await OrtTrainer.create(zoo('resnet_block_train'), { loss: 'crossEntropy', optimizer: adam({ lr: 1e-3 }) });
    const input = new ort.Tensor('float32', uniform(4 * 4 * 64, 5), [4, 4, 8, 8]);
    await trainer.step({ input }, new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 1n]), [4]));
    const dir = tmp();
    await trainer.save(dir);
    const loaded = await OrtTrainer.load(dir, { loss: 'crossEntropy' });
    expect(loaded.buffers()).toEqual(trainer.buffers());
    expect(loaded.parameters()).toEqual(trainer.parameters());
    await Promise.all([trainer.release(), loaded.release()]);
  });

  test('a checkpoint of another model, a truncated file or a corrupt state is refused with a clear error', async () => {
    const a = await OrtTrainer.create(zoo('layernorm_mlp_train'), { loss: 'mse', optimizer: adam() });
    await a.step(mlpBatch(4, 1).feeds, mlpBatch(4, 1).target);
    const dir = tmp();
    await a.save(dir);
    // the state of this model with another model's file: not the files saved together
    const other = tmp();
    const b = await OrtTrainer.create(zoo('conv1d_sequence'), { loss: 'crossEntropy', optimizer: adam() });
    await b.save(other);
    writeFileSync(join(other, 'trainer.json'), readFileSync(join(dir, 'trainer.json')));
    await expect(OrtTrainer.load(other, { loss: 'crossEntropy' })).rejects.toThrow(
      'trainer.json" is not the file saved with this checkpoint',
    );
    // and resumed by hand on the other model: its fingerprint differs
    await expect(
      OrtTrainer.create(readFileSync(join(other, 'model.onnx')), {
        loss: 'crossEntropy',
        state: JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8')),
      }),
    ).rejects.toThrow('OrtTrainer.create: state was saved for another model (its fingerprint differs)');
    // truncated
    const text = readFileSync(join(dir, 'trainer.json'), 'utf8');
    writeFileSync(join(dir, 'trainer.json'), text.slice(0, text.length / 2));
    await expect(OrtTrainer.load(dir, { loss: 'mse' })).rejects.toThrow(
      `trainer.json" is not the file saved with this checkpoint (it has ${Math.floor(text.length / 2)} bytes, checkpoint.json records ${text.length})`,
    );
    // corrupt: an optimizer buffer of the wrong length (resumed by hand: a load refuses any changed file first)
    const state = JSON.parse(text);
    const key = Object.keys(state.optimizer.state.m)[0]!;
    state.optimizer.state.m[key] = state.optimizer.state.v[key] = Buffer.from(new Float32Array(3).buffer).toString('base64');
    await expect(OrtTrainer.create(readFileSync(join(dir, 'model.onnx')), { loss: 'mse', state })).rejects.toThrow(
      `adam.bind: the saved buffer of ${JSON.stringify(key)} has 3 values`,
    );
    writeFileSync(join(dir, 'model.onnx'), new Uint8Array([1, 2, 3]));
    await expect(OrtTrainer.load(dir, { loss: 'mse' })).rejects.toThrow(
      'model.onnx" is not the file saved with this checkpoint (it has 3 bytes',
    );
    await expect(OrtTrainer.load(join(dir, 'missing'), { loss: 'mse' })).rejects.toThrow('OrtTrainer.load: cannot read');
    await expect(OrtTrainer.load(dir, { loss: 'mse', optimizer: adam() } as never)).rejects.toThrow(
      'OrtTrainer.load: unknown option "optimizer"',
    );
    await Promise.all([a.release(), b.release()]);
  });
});
