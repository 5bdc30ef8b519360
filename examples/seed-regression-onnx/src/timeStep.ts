// Times one training step of the seed MLP (20-25-1, batch 128) through ONNX Runtime, beside a forward-only run:
//   node examples/seed-regression-onnx/dist/timeStep.js [--iterations 2000] [--threads 0]
// Compare with PyTorch's CPU step: /usr/bin/python3 examples/seed-regression-onnx/scripts/time_torch_step.py
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { makeRegression } from '@gradpipe/example-seed-data';
import { mlpModel, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { batch } from './runExperiment.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000' }, threads: { type: 'string', default: '0' } } });
const iterations = Number(values.iterations);
const threads = Number(values.threads); // 0: ONNX Runtime's default
const sessionOptions: ort.InferenceSession.SessionOptions = threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};

const data = makeRegression({ seed: 1 });
const { x, y } = batch(
  data,
  Array.from({ length: 128 }, (_, i) => i),
);
const model = mlpModel({ sizes: [20, 25, 1], seed: 1 });
// lr small enough that 2000+ steps on one batch stay finite; the work per step does not depend on it.
const trainer = await OrtTrainer.create(model, {
  loss: 'mse',
  optimizer: sgd({ lr: 1e-4, momentum: 0.8 }),
  pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
  sessionOptions,
});
const forward = await ort.InferenceSession.create(model, sessionOptions);

/** Median over 20 blocks of the mean time per call, in microseconds. */
async function time(label: string, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const blocks: number[] = [];
  const per = Math.max(1, Math.floor(iterations / 20));
  for (let b = 0; b < 20; b++) {
    const start = performance.now();
    for (let i = 0; i < per; i++) await fn();
    blocks.push(((performance.now() - start) * 1000) / per);
  }
  blocks.sort((a, b) => a - b);
  const median = blocks[10]!;
  console.log(`${label.padEnd(44)} ${median.toFixed(1)} µs`);
  return median;
}

console.log(`seed MLP 20-25-1, batch 128, onnxruntime-node ${ort.env.versions.node}, threads ${threads || 'default'}`);
const fwd = await time('forward only (InferenceSession.run)', () => forward.run({ input: x }));
const grads = await time('gradients (training graph run)', () => trainer.gradients({ input: x }, y));
const step = await time('full step (gradients + clip + SGD update)', () => trainer.step({ input: x }, y));
console.log(`step / forward = ${(step / fwd).toFixed(2)}, gradients / forward = ${(grads / fwd).toFixed(2)}`);
await trainer.release();
await forward.release();
