import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StepStats } from '@gradpipe/core';
import { clipByNorm, clipByValue, GradientPipeline } from '@gradpipe/core';
import type { DigitArrays } from '@gradpipe/example-mnist-data';
import { permutation } from '@gradpipe/example-seed-data';
import { adam, OrtTrainer } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** The two exported models (scripts/export_models.py). */
export type ModelName = 'lstm' | 'cnn';
/** The three runs: no clipping, clip by value, clip by norm (per tensor, as Keras' clipnorm). */
export type ClipName = 'none' | 'value' | 'norm';

/** Options of {@link trainDigits}. */
export interface TrainDigitsOptions {
  model: ModelName;
  clip: ClipName;
  train: DigitArrays;
  test: DigitArrays;
  epochs?: number;
  batchSize?: number;
  /** Adam's learning rate. Default 1e-3, as the tfjs example. */
  learningRate?: number;
  /** Bound of clip by value. Default 1. */
  clipValue?: number;
  /** Bound of clip by norm, per tensor. Default 2 (the tfjs example's clipnorm). */
  clipNorm?: number;
  /** Seed of the sample order. Default 1. */
  seed?: number;
  /** Called after every step. */
  onStep?: (loss: number, stats: StepStats) => void;
  /** Called once with the run's pipeline, e.g. to record its events with `@gradpipe/monitor`. */
  onPipeline?: (pipeline: GradientPipeline) => void;
}

/** What one run measured. */
export interface DigitsResult {
  /** Share of the held-out digits classified correctly. */
  testAccuracy: number;
  /** Mean batch loss of the last epoch. */
  finalLoss: number;
  steps: number;
  /** Steps whose gradients the pipeline changed. */
  clippedSteps: number;
  seconds: number;
  /** Median wall time of one training step (gradients, pipeline, Adam). */
  msPerStep: number;
}

/** The bytes of an exported model. */
export function modelBytes(model: ModelName): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(`../models/mnist_${model}.onnx`, import.meta.url))));
}

/** The pipeline of a run, with every tensor's norm in its events, so the report shows each layer's gradients. */
export function pipelineFor(clip: ClipName, clipValue = 1, clipNorm = 2): GradientPipeline {
  const options = { tensorNorms: true };
  if (clip === 'value') return new GradientPipeline([clipByValue({ min: -clipValue, max: clipValue })], options);
  if (clip === 'norm') return new GradientPipeline([clipByNorm({ maxNorm: clipNorm })], options);
  return new GradientPipeline([], options);
}

/** Digits `rows` as the model's input: [n, 28, 28] row sequences for the LSTM, [n, 1, 28, 28] images for the CNN. */
function digitsTensor(model: ModelName, set: DigitArrays, rows: readonly number[]): ort.Tensor {
  const data = new Float32Array(rows.length * 784);
  rows.forEach((r, i) => data.set(set.pixels.subarray(r * 784, (r + 1) * 784), i * 784));
  return new ort.Tensor('float32', data, model === 'lstm' ? [rows.length, 28, 28] : [rows.length, 1, 28, 28]);
}

/**
 * Trains one of the PyTorch-exported models on the real digits through `OrtTrainer` — Adam, cross-entropy, the
 * run's gradient pipeline, samples reshuffled every epoch — then measures its accuracy on the held-out digits.
 *
 * @example
 * ```ts
 * const { train, test } = loadDigits();
 * const { testAccuracy } = await trainDigits({ model: 'lstm', clip: 'norm', train, test, epochs: 3 });
 * ```
 */
export async function trainDigits(options: TrainDigitsOptions): Promise<DigitsResult> {
  const { model, clip, train, test, epochs = 3, batchSize = 32, learningRate = 1e-3, seed = 1 } = options;
  const started = performance.now();
  const pipeline = pipelineFor(clip, options.clipValue, options.clipNorm);
  options.onPipeline?.(pipeline);
  const trainer = await OrtTrainer.create(modelBytes(model), { loss: 'crossEntropy', optimizer: adam({ lr: learningRate }), pipeline });
  const rng = xoroshiro128plus(seed);
  const count = train.labels.length;
  const stepTimes: number[] = [];
  let steps = 0;
  let clippedSteps = 0;
  let finalLoss = NaN;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = permutation(count, rng);
      let total = 0;
      for (let start = 0; start < count; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const input = digitsTensor(model, train, rows);
        const target = new ort.Tensor(
          'int64',
          BigInt64Array.from(rows, (r) => BigInt(train.labels[r]!)),
          [rows.length],
        );
        const t0 = performance.now();
        const { loss, stats } = await trainer.step({ input }, target);
        stepTimes.push(performance.now() - t0);
        steps++;
        // Without accumulation every step is an update with its pipeline figures.
        if (stats?.clipped) clippedSteps++;
        total += loss * rows.length;
        if (stats) options.onStep?.(loss, stats);
      }
      finalLoss = total / count;
    }
    let correct = 0;
    for (let start = 0; start < test.labels.length; start += 500) {
      const rows = Array.from({ length: Math.min(500, test.labels.length - start) }, (_, i) => start + i);
      const logits = (await trainer.predict({ input: digitsTensor(model, test, rows) })).data as Float32Array;
      rows.forEach((r, i) => {
        const row = logits.subarray(i * 10, (i + 1) * 10);
        if (row.indexOf(Math.max(...row)) === test.labels[r]) correct++;
      });
    }
    stepTimes.sort((a, b) => a - b);
    return {
      testAccuracy: correct / test.labels.length,
      finalLoss,
      steps,
      clippedSteps,
      seconds: (performance.now() - started) / 1000,
      msPerStep: stepTimes[Math.floor(stepTimes.length / 2)] ?? NaN,
    };
  } finally {
    await trainer.release();
  }
}
