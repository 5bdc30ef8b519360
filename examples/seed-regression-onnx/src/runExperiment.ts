import { clipByGlobalNorm, clipByValue, GradientPipeline } from '@gradpipe/core';
import { makeRegression, permutation, type RegressionData } from '@gradpipe/example-seed-data';
import { mlpModel, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** The three runs of the seed experiment. */
export type RunName = 'none' | 'value' | 'global';

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  run: RunName;
  seed?: number;
  epochs?: number;
  batchSize?: number;
  /** Called after every epoch with its mean batch loss (for progress bars). */
  onEpoch?: (epoch: number, loss: number) => void;
  /** Called with the pipeline before training, e.g. to record its events. */
  onPipeline?: (pipeline: GradientPipeline) => void;
}

/** What one run gives. */
export interface ExperimentResult {
  run: RunName;
  /** Mean batch loss of every epoch. */
  epochLosses: number[];
  /** First epoch (0-based) whose loss is not finite, or undefined. */
  firstNanEpoch: number | undefined;
  /** Steps whose gradients the pipeline clipped. */
  clippedSteps: number;
  steps: number;
  data: RegressionData;
  trainer: OrtTrainer;
}

/** The seed's SGD settings, the same for every run. */
export const SGD = { lr: 0.07, momentum: 0.8 } as const;

/** The pipeline of each run: nothing, clip by value 1.0, clip by global norm 1.0. */
export function pipelineFor(run: RunName): GradientPipeline {
  if (run === 'value') return new GradientPipeline([clipByValue({ min: -1, max: 1 })]);
  if (run === 'global') return new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
  return new GradientPipeline([]);
}

/**
 * The seed's experiment through ONNX Runtime: make_regression-like data (1000 × 20, 10 informative, noise 0.1),
 * MLP 20 → 25 (ReLU) → 1, Glorot-uniform weights and bias 0.01, SGD lr 0.07 momentum 0.8, MSE, batch 128,
 * 50 epochs, samples reshuffled every epoch.
 *
 * @example
 * ```ts
 * const { epochLosses, trainer } = await runExperiment({ run: 'global' });
 * console.log(epochLosses.at(-1)); // < 5
 * ```
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const { run, seed = 1, epochs = 50, batchSize = 128 } = options;
  const data = makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed });
  const pipeline = pipelineFor(run);
  options.onPipeline?.(pipeline);
  const trainer = await OrtTrainer.create(mlpModel({ sizes: [20, 25, 1], seed }), {
    loss: 'mse',
    optimizer: sgd({ ...SGD }),
    pipeline,
  });
  const rng = xoroshiro128plus(seed + 1000); // the epochs' sample order, apart from the data's stream
  const epochLosses: number[] = [];
  let clippedSteps = 0;
  let steps = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = permutation(data.samples, rng);
    let total = 0;
    let count = 0;
    for (let start = 0; start < data.samples; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const { x, y } = batch(data, rows);
      const { loss, stats } = await trainer.step({ input: x }, y);
      total += loss * rows.length;
      count += rows.length;
      if (stats?.clipped) clippedSteps++;
      steps++;
    }
    epochLosses.push(total / count);
    options.onEpoch?.(epoch, total / count);
  }
  const firstNan = epochLosses.findIndex((l) => !Number.isFinite(l));
  return { run, epochLosses, firstNanEpoch: firstNan < 0 ? undefined : firstNan, clippedSteps, steps, data, trainer };
}

/** The rows of the data set as `[n, 20]` inputs and `[n, 1]` targets. */
export function batch(data: RegressionData, rows: readonly number[]): { x: ort.Tensor; y: ort.Tensor } {
  const f = data.features;
  const x = new Float32Array(rows.length * f);
  const y = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * f, (r + 1) * f), i * f);
    y[i] = data.y[r]!;
  });
  return { x: new ort.Tensor('float32', x, [rows.length, f]), y: new ort.Tensor('float32', y, [rows.length, 1]) };
}
