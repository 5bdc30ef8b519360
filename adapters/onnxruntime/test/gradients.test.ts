import { buildTrainingModel, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, test } from 'vitest';
import { fixtureTensors, GRADIENT_FIXTURES, loadFixture, relativeError } from './fixtures.js';

// PyTorch computed these losses and gradients in float64 on the same float32 weights and batch
// (test/fixtures/make_fixtures.py); ONNX Runtime computes in float32, so agreement to ~1e-6 is expected.
const TOLERANCE = 1e-4;
const measured: Record<string, number> = {};

describe.each(GRADIENT_FIXTURES)('gradients of %s match PyTorch', (name) => {
  test('loss and every gradient within relative error 1e-4', async () => {
    const { fixture, bytes } = loadFixture(name);
    const trainer = await OrtTrainer.create(bytes, { loss: fixture.loss, optimizer: sgd({ lr: 0.1 }) });
    const { feeds, target } = fixtureTensors(fixture);
    const { loss, grads } = await trainer.gradients(feeds, target);

    expect(Math.abs(loss - fixture.expectedLoss) / Math.abs(fixture.expectedLoss)).toBeLessThan(TOLERANCE);
    expect(Object.keys(grads).sort()).toEqual(Object.keys(fixture.grads).sort());
    let worst = 0;
    for (const [param, expected] of Object.entries(fixture.grads)) {
      expect(trainer.signature.shapes[param]).toEqual(expected.dims);
      const error = relativeError(grads[param]!, expected.data);
      expect(error, param).toBeLessThan(TOLERANCE);
      worst = Math.max(worst, error);
    }
    measured[name] = worst;
    await trainer.release();
  });
});

afterAll(() => {
  // The figures quoted in docs/onnxruntime.md come from this line.
  console.log('max relative gradient error vs PyTorch float64:', JSON.stringify(measured));
});

describe('the training model', () => {
  test('contains only standard ai.onnx operators and keeps the caller model untouched', () => {
    const { bytes } = loadFixture('gemm_attrs_opset17');
    const before = bytes.slice();
    const { model, signature } = buildTrainingModel(bytes, { loss: 'crossEntropy' });
    expect(bytes).toEqual(before);
    for (const node of model.graph!.node!) expect(node.domain ?? '').toBe('');
    const inputs = model.graph!.input!.map((i) => i.name);
    expect(inputs).toEqual(expect.arrayContaining(['input', 'W1', 'b1', 'W2', 'c2', signature.target]));
    expect(model.graph!.initializer!.map((t) => t.name)).not.toContain('W1');
    expect(model.graph!.output!.map((o) => o.name)).toEqual([signature.loss, ...Object.values(signature.gradients)]);
  });

  test('is written at opset 17 whatever the model opset, with the opset-17 operator forms', () => {
    for (const name of ['mlp_relu_opset10', 'classifier_softmax_opset11', 'matmul_add_opset13', 'gemm_attrs_opset17']) {
      const { model } = buildTrainingModel(loadFixture(name).bytes, { loss: name.startsWith('classifier') ? 'crossEntropy' : 'mse' });
      expect(Number(model.opsetImport!.find((o) => !o.domain)!.version)).toBe(17);
      const reduceSums = model.graph!.node!.filter((n) => n.opType === 'ReduceSum');
      for (const n of reduceSums) expect(n.attribute!.map((a) => a.name)).not.toContain('axes');
    }
  });

  test('a subset of trainables gets gradients; the rest stay initializers', async () => {
    const { fixture, bytes } = loadFixture('matmul_add_opset13');
    const tm = buildTrainingModel(bytes, { loss: 'mse', trainable: ['W2', 'b1'] });
    expect(Object.keys(tm.signature.gradients)).toEqual(['W2', 'b1']);
    const session = await ort.InferenceSession.create(tm.bytes);
    const { feeds, target } = fixtureTensors(fixture);
    const run: Record<string, ort.Tensor> = { ...feeds, [tm.signature.target!]: target };
    for (const [n, w] of Object.entries(tm.initialParameters)) run[n] = new ort.Tensor('float32', w, tm.signature.shapes[n]);
    const out = await session.run(run);
    expect(relativeError(out[tm.signature.gradients.W2!]!.data as Float32Array, fixture.grads.W2!.data)).toBeLessThan(TOLERANCE);
    expect(relativeError(out[tm.signature.gradients.b1!]!.data as Float32Array, fixture.grads.b1!.data)).toBeLessThan(TOLERANCE);
    await session.release();
  });
});
