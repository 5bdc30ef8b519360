import { GradientPipeline, type StepEvent } from '@gradpipe/core';
import { type GradientPipelineOptimizer, withClipping, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from './buildModel.js';
import type { RegressionTensors } from './regressionTensors.js';

/** The three runs of the seed's experiment. */
export type Clipping = 'none' | 'clipvalue' | 'globalNorm';

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  clipping: Clipping;
  data: RegressionTensors;
  epochs?: number;
  batchSize?: number;
  /** Seed of the weight initialisation. */
  seed?: number;
  /** Called with the optimizer before training, e.g. to attach a JSONL recorder to `optimizer.pipeline.events$`. */
  onStart?: (optimizer: GradientPipelineOptimizer) => void;
  /** Called after every step with its event (norms before and after clipping, loss). */
  onStep?: (event: StepEvent) => void;
}

/** What one run measured. */
export interface ExperimentResult {
  clipping: Clipping;
  /** Mean training loss of every epoch (NaN once the run has diverged). */
  epochLosses: number[];
  /** The first epoch (0-based) whose loss is not finite, or null when it stays finite. */
  firstNanEpoch: number | null;
  /** The loss of the last epoch. */
  finalLoss: number;
  /** Every step's global gradient norm before and after clipping, and its loss. */
  steps: { normBefore: number; normAfter: number; loss: number }[];
}

/** The seed's optimizer settings (SGD with momentum) and batch size, the same for every run. */
export const SGD = { lr: 0.07, momentum: 0.8, batchSize: 128 } as const;

/** The optimizer of each run: {@link SGD}, clipped as the run says. */
function optimizerFor(clipping: Clipping): GradientPipelineOptimizer {
  const sgd = tf.train.momentum(SGD.lr, SGD.momentum);
  if (clipping === 'clipvalue') return withClipping(sgd, { clipvalue: 1 });
  if (clipping === 'globalNorm') return withClipping(sgd, { globalClipnorm: 1 });
  // No clipping: an empty pipeline changes nothing but still measures and reports every step's norm.
  return withGradientPipeline(sgd, new GradientPipeline([]));
}

/**
 * One run of the seed's experiment: the MLP trained with `model.fit` (MSE, batch 128) and the run's clipping.
 *
 * @example
 * ```ts
 * const data = regressionTensors(makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed: 1 }));
 * const { firstNanEpoch, finalLoss } = await runExperiment({ clipping: 'globalNorm', data });
 * ```
 */
export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const { clipping, data, epochs = 50, batchSize = SGD.batchSize, seed = 1 } = options;
  const model = buildModel({ inputs: data.x.shape[1], seed });
  const optimizer = optimizerFor(clipping);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const steps: ExperimentResult['steps'] = [];
  const subscription = optimizer.pipeline.events$.subscribe((e) => {
    steps.push({ normBefore: e.normBefore, normAfter: e.normAfter, loss: e.loss ?? NaN });
    options.onStep?.(e);
  });
  options.onStart?.(optimizer);
  try {
    // shuffle: false keeps the runs reproducible (tfjs shuffles with Math.random); yieldEvery: 'never' skips the
    // pauses fit makes for a browser's event loop.
    const history = await model.fit(data.x, data.y, { epochs, batchSize, shuffle: false, verbose: 0, yieldEvery: 'never' });
    const epochLosses = (history.history.loss as number[]).map(Number);
    const firstNan = epochLosses.findIndex((l) => !Number.isFinite(l));
    return { clipping, epochLosses, firstNanEpoch: firstNan < 0 ? null : firstNan, finalLoss: epochLosses[epochLosses.length - 1]!, steps };
  } finally {
    subscription.unsubscribe();
    optimizer.pipeline.close(); // completes events$: recorders flush and close
    model.dispose();
    optimizer.dispose();
    // tf.train.momentum's dispose() forgets its learning-rate scalar (tfjs 4.22); free it so runs leak nothing.
    (optimizer.optimizer as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}
