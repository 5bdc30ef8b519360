import { clipByGlobalNorm, clipByNorm, clipByValue, GradientPipeline, type StepEvent } from '@gradpipe/core';
import { makeRegression } from '@gradpipe/example-seed-data';
import { type GradientPipelineOptimizer, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';

/** The four runs the page offers. */
export type Clipping = 'off' | 'value' | 'norm' | 'globalNorm';

/** The seed's optimizer settings and batch size. */
export const SGD = { lr: 0.07, momentum: 0.8, batchSize: 128 } as const;

/** The pipeline of each run; every one reports per-layer norms (`tensorNorms`) for the layer chart. */
function pipelineFor(clipping: Clipping): GradientPipeline {
  const transforms = {
    off: [],
    value: [clipByValue(1)],
    norm: [clipByNorm({ maxNorm: 1 })],
    globalNorm: [clipByGlobalNorm({ maxNorm: 1 })],
  }[clipping];
  return new GradientPipeline(transforms, { tensorNorms: true });
}

/** The seed's MLP, 20 → 25 (ReLU) → 1, seeded Glorot weights, biases 0.01 (as in the PyTorch experiment). */
function buildModel(): tf.Sequential {
  const bias = () => tf.initializers.constant({ value: 0.01 });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [20],
        units: 25,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        biasInitializer: bias(),
        name: 'hidden',
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), biasInitializer: bias(), name: 'out' }),
    ],
  });
}

/** What a run reports as it goes. */
export interface RunCallbacks {
  /** Every step's event, in step order, once its figures are back from the device. */
  onStep(event: StepEvent): void;
  /** After every epoch: its mean loss. */
  onEpoch(epoch: number, loss: number): void;
}

/**
 * Trains the seed regression with `model.fit` and the run's clipping; resolves with the epoch losses once the last
 * step's figures are in. Nothing is left on the device afterwards.
 */
export async function train(clipping: Clipping, epochs: number, callbacks: RunCallbacks): Promise<number[]> {
  const data = makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed: 1 });
  const x = tf.tensor2d(data.x, [data.samples, data.features]);
  const y = tf.tensor2d(data.y, [data.samples, 1]);
  const model = buildModel();
  const sgd = tf.train.momentum(SGD.lr, SGD.momentum);
  const optimizer: GradientPipelineOptimizer = withGradientPipeline(sgd, pipelineFor(clipping));
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const subscription = optimizer.pipeline.events$.subscribe((e) => callbacks.onStep(e));
  try {
    const history = await model.fit(x, y, {
      epochs,
      batchSize: SGD.batchSize,
      shuffle: false,
      verbose: 0,
      // Let the page draw between batches: the figures arrive asynchronously on webgl and webgpu.
      yieldEvery: 'batch',
      callbacks: { onEpochEnd: (epoch, logs) => callbacks.onEpoch(epoch, Number(logs?.loss)) },
    });
    await optimizer.settled();
    return (history.history.loss as number[]).map(Number);
  } finally {
    subscription.unsubscribe();
    model.dispose();
    optimizer.dispose();
    (sgd as unknown as { c?: tf.Tensor }).c?.dispose(); // tf.train.momentum's dispose() forgets its learning rate
    tf.dispose([x, y]);
  }
}
