import { clipByGlobalNorm, clipByNorm, clipByValue, GradientPipeline, type StepEvent } from '@gradpipe/core';
import { type ClippingOptions, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { buildLstm } from './buildLstm.js';
import type { DigitSet } from './loadDigits.js';

/** Options of {@link trainLstm}. */
export interface TrainLstmOptions {
  train: DigitSet;
  test: DigitSet;
  /** Keras-style clipping of the Adam optimizer, e.g. `{ clipvalue: 1 }` or `{ clipnorm: 2 }`. */
  clipping: ClippingOptions;
  epochs?: number;
  batchSize?: number;
  units?: number;
  learningRate?: number;
  /** Called after every step with its event (norms before and after clipping, loss). */
  onStep?: (event: StepEvent) => void;
  /** Called once with the run's pipeline before training, e.g. to record its events with `@gradpipe/monitor`. */
  onPipeline?: (pipe: GradientPipeline) => void;
}

/** What one training run measured. */
export interface LstmResult {
  /** Share of the held-out digits classified correctly. */
  testAccuracy: number;
  /** Training loss of the last epoch. */
  finalLoss: number;
  steps: number;
  /** Steps whose gradients the clipping changed. */
  clippedSteps: number;
  seconds: number;
}

/**
 * Trains the article's LSTM with Adam (1e-3) clipped Keras-style (the pipeline `withClipping` builds, with
 * per-tensor norms on for the report's per-layer view), then measures its
 * accuracy on the held-out digits.
 *
 * @example
 * ```ts
 * const { train, test } = loadDigits();
 * const { testAccuracy } = await trainLstm({ train, test, clipping: { clipnorm: 2 }, epochs: 3 });
 * ```
 */
export async function trainLstm(options: TrainLstmOptions): Promise<LstmResult> {
  const { train, test, clipping, epochs = 3, batchSize = 32, units = 64, learningRate = 1e-3 } = options;
  const started = performance.now();
  const model = buildLstm({ units });
  // What withClipping(adam, clipping) builds, written out because the report's per-layer view needs the pipeline
  // made with tensorNorms: true (every variable's gradient norm in the log), which withClipping has no option for.
  const transform =
    clipping.clipnorm !== undefined
      ? clipByNorm({ maxNorm: clipping.clipnorm })
      : clipping.clipvalue !== undefined
        ? clipByValue(clipping.clipvalue)
        : clipByGlobalNorm({ maxNorm: clipping.globalClipnorm! });
  const optimizer = withGradientPipeline(tf.train.adam(learningRate), new GradientPipeline([transform], { tensorNorms: true }));
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  options.onPipeline?.(optimizer.pipeline);
  let steps = 0;
  let clippedSteps = 0;
  const subscription = optimizer.pipeline.events$.subscribe((e) => {
    steps++;
    if (e.clipped) clippedSteps++;
    options.onStep?.(e);
  });
  try {
    const history = await model.fit(train.x, train.y, { epochs, batchSize, shuffle: true, verbose: 0, yieldEvery: 'never' });
    const losses = history.history.loss as number[];
    const testAccuracy = tf.tidy(() => {
      const predicted = tf.argMax(model.predict(test.x, { batchSize: 256 }) as tf.Tensor2D, 1);
      return tf.mean(tf.cast(tf.equal(predicted, tf.argMax(test.y, 1)), 'float32')).dataSync()[0]!;
    });
    return { testAccuracy, finalLoss: losses[losses.length - 1]!, steps, clippedSteps, seconds: (performance.now() - started) / 1000 };
  } finally {
    subscription.unsubscribe();
    optimizer.pipeline.close();
    model.dispose();
    optimizer.dispose();
  }
}
