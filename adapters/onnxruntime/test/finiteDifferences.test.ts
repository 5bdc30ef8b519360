import { test } from '@fast-check/vitest';
import { OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { afterAll, expect } from 'vitest';
import { buildMlp, mlpSpecArb } from './randomMlp.js';

// Central differences of an independent float64 forward pass (h = 1e-6, truncation error ~1e-12) against the
// float32 gradient graph run by ONNX Runtime. Float32 arithmetic bounds the agreement: we allow 1e-4 of the
// tensor's largest gradient plus 1e-6 absolute. LeakyRelu's kink is at 0; a pre-activation within h of it
// is vanishingly unlikely with these random weights.
const H = 1e-6;
let worst = 0; // max |analytic − fd| / max |fd| over all tensors of all runs, for the docs
afterAll(() => console.log('finite differences: worst relative deviation', worst));

test.prop([mlpSpecArb], { seed: 42, numRuns: 60 })('random small MLPs: analytic gradients = finite differences', async (spec) => {
  const mlp = buildMlp(spec);
  const trainer = await OrtTrainer.create(mlp.bytes, { loss: spec.loss, optimizer: sgd({ lr: 0.1 }) });
  const x = new ort.Tensor('float32', mlp.x, mlp.xDims);
  const target =
    mlp.target instanceof Float32Array
      ? new ort.Tensor('float32', mlp.target, mlp.targetDims)
      : new ort.Tensor('int64', mlp.target, mlp.targetDims);
  const { loss, grads } = await trainer.gradients({ input: x }, target);
  await trainer.release();

  const p64 = Object.fromEntries(Object.entries(mlp.params).map(([n, p]) => [n, Float64Array.from(p.data)]));
  expect(Math.abs(loss - mlp.loss(p64))).toBeLessThan(1e-5 * Math.max(1, Math.abs(loss)));
  expect(Object.keys(grads).sort()).toEqual(Object.keys(mlp.params).sort());
  for (const [name, values] of Object.entries(p64)) {
    const fd = Array.from(values, (v, i) => {
      values[i] = v + H;
      const up = mlp.loss(p64);
      values[i] = v - H;
      const down = mlp.loss(p64);
      values[i] = v;
      return (up - down) / (2 * H);
    });
    const scale = Math.max(...fd.map(Math.abs));
    if (scale > 1e-3) worst = Math.max(worst, Math.max(...fd.map((e, i) => Math.abs(grads[name]![i]! - e))) / scale);
    fd.forEach((expected, i) => {
      expect(Math.abs(grads[name]![i]! - expected), `${name}[${i}]`).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
    });
  }
});
