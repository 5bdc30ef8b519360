import { adaptiveClip, cosineDecay, GradientPipeline, nanGuard } from '@gradpipe/core';
import { GradientPipelineOptimizer, type GradientPipelineOptimizerOptions, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, withoutLeaks } from './backends.js';

function makeModel(options: GradientPipelineOptimizerOptions = {}): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 6, inputShape: [4], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  // An adaptive threshold has state worth resuming: the norm history.
  const pipe = new GradientPipeline([nanGuard(), adaptiveClip({ method: 'percentile', percentile: 50 })]);
  model.compile({ optimizer: withGradientPipeline(tf.train.adam(0.05), pipe, options), loss: 'meanSquaredError' });
  return model;
}

/**
 * Saves to memory. tfjs-layers never disposes the `iter` scalar that `optimizer.getWeights()` creates (with any
 * optimizer, wrapped or not), so this catches and disposes it to keep the leak check about our code.
 */
async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  const optimizer = model.optimizer as tf.Optimizer & { getWeights: tf.Optimizer['getWeights'] };
  const iterTensors: tf.Tensor[] = [];
  optimizer.getWeights = async () => {
    const weights: { name: string; tensor: tf.Tensor }[] = await Object.getPrototypeOf(optimizer).getWeights.call(optimizer);
    // Also the micro-batch count gradpipe adds with accumulate (a new tensor too).
    iterTensors.push(...weights.filter((w, i) => i === 0 || w.name === 'gradpipe/microBatches/count').map((w) => w.tensor));
    return weights;
  };
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
      { includeOptimizer: true },
    );
  } finally {
    delete (optimizer as Partial<typeof optimizer>).getWeights;
    tf.dispose(iterTensors);
  }
  return artifacts!;
}

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe('saving and loading a model with its GradientPipelineOptimizer', () => {
  beforeAll(() => useBackend('cpu'));

  it('getConfig / fromConfig round-trip through tf.serialization, pipeline state included', async () => {
    await withoutLeaks(() => {
      const pipe = new GradientPipeline([nanGuard({ maxConsecutive: 3 }), adaptiveClip({ method: 'zscore', warmupSteps: 2 })]);
      // (Not tf.train.momentum here: its dispose() forgets the learning-rate scalar, a tfjs leak.)
      const opt = withGradientPipeline(tf.train.adam(0.02, 0.8, 0.99), pipe);
      const w = tf.tidy(() => tf.variable(tf.zeros([2]), true, 'roundtrip_w'));
      const g = tf.tensor1d([1, 2]);
      opt.applyGradients({ [w.name]: g });
      expect(opt.getClassName()).toBe('GradpipeOptimizer');
      const entry = tf.serialization.SerializationMap.getMap().classNameMap[opt.getClassName()]!;
      const copy = entry[1](entry[0], JSON.parse(JSON.stringify(opt.getConfig()))) as GradientPipelineOptimizer;
      expect(copy).toBeInstanceOf(GradientPipelineOptimizer);
      expect(copy.optimizer.getClassName()).toBe('Adam');
      expect(copy.optimizer.getConfig()).toEqual(opt.optimizer.getConfig());
      expect(copy.pipeline.toJSON()).toEqual(pipe.toJSON());
      tf.dispose([w, g]);
      opt.dispose();
      copy.dispose();
    });
  });

  it('model.save({ includeOptimizer: true }) and tf.loadLayersModel resume the very same training', async () => {
    await withoutLeaks(async () => {
      const xs = tf.randomNormal([48, 4], 0, 1, 'float32', 3);
      const ys = tf.randomNormal([48, 1], 0, 3, 'float32', 4);
      const fit = (m: tf.LayersModel) => m.fit(xs, ys, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });

      const original = makeModel();
      await fit(original);
      const artifacts = await saveToMemory(original);
      expect(JSON.stringify(artifacts.trainingConfig)).toContain('GradpipeOptimizer');
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const before = original.optimizer as GradientPipelineOptimizer;
      const after = loaded.optimizer as GradientPipelineOptimizer;
      expect(after).toBeInstanceOf(GradientPipelineOptimizer);
      expect(after.iterations).toBe(before.iterations);
      expect(after.pipeline.toJSON()).toEqual(before.pipeline.toJSON());

      // Both go on for two more epochs: same weights, same Adam state, same pipeline state.
      await fit(original);
      await fit(loaded);
      const [a, b] = [weightsOf(original), weightsOf(loaded)];
      a.forEach((w, i) => w.forEach((v, j) => expect(b[i]![j]).toBeCloseTo(v, 5)));
      expect(after.iterations).toBe(12);
      expect(after.pipeline.toJSON()).toEqual(before.pipeline.toJSON());

      tf.dispose([xs, ys]);
      for (const m of [original, loaded]) {
        const opt = m.optimizer;
        m.dispose();
        opt.dispose();
      }
    });
  });

  it('with a schedule and accumulation, saved mid-accumulation: the loaded model resumes the same training', async () => {
    await withoutLeaks(async () => {
      const xs = tf.randomNormal([48, 4], 0, 1, 'float32', 5);
      const ys = tf.randomNormal([48, 1], 0, 3, 'float32', 6);
      // 4 batches of 12 per epoch, 3 per update: after one epoch, one update is made and one micro-batch is pending.
      const fit = (m: tf.LayersModel, epochs: number) => m.fit(xs, ys, { epochs, batchSize: 12, shuffle: false, verbose: 0 });
      const options = { schedule: cosineDecay({ peak: 0.05, warmupSteps: 2, decaySteps: 8 }), accumulate: 3 };

      const original = makeModel(options);
      await fit(original, 1);
      const before = original.optimizer as GradientPipelineOptimizer;
      expect([before.iterations, before.pendingMicroBatches]).toEqual([1, 1]);
      const artifacts = await saveToMemory(original);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const after = loaded.optimizer as GradientPipelineOptimizer;
      expect([after.iterations, after.pendingMicroBatches, after.accumulate]).toEqual([1, 1, 3]);
      expect(after.schedule?.config).toEqual(options.schedule.config);
      expect(after.learningRate).toBe(before.learningRate);

      await fit(original, 2);
      await fit(loaded, 2);
      const [a, b] = [weightsOf(original), weightsOf(loaded)];
      a.forEach((w, i) => w.forEach((v, j) => expect(b[i]![j]).toBeCloseTo(v, 5)));
      expect([after.iterations, after.pendingMicroBatches]).toEqual([4, 0]); // 12 micro-batches, 4 updates
      expect(after.learningRate).toBe(options.schedule(4));

      tf.dispose([xs, ys]);
      for (const m of [original, loaded]) {
        const opt = m.optimizer;
        m.dispose();
        opt.dispose();
      }
    });
  });
});
