import type * as ort from 'onnxruntime-node';
import { GradpipeError } from '@gradpipe/core';
import type { RunningStatistics } from '../training/lowerTrainingForms.js';

/**
 * Updates training-mode BatchNormalization's running statistics with PyTorch's rule, from a step's batch
 * statistics: `running ← (1 − momentum)·running + momentum·batch`, the batch variance unbiased. Checked first,
 * then applied, so that a refused batch changes nothing.
 */
export function updateRunningStatistics(
  fn: string,
  stats: readonly RunningStatistics[],
  buffers: Record<string, Float32Array>,
  outputs: Readonly<Record<string, ort.Tensor>>,
): void {
  const batches = stats.map((s) => ({ s, mean: outputs[s.batchMean]!.data as Float32Array, variance: outputs[s.batchVariance]!.data as Float32Array }));
  for (const { s, variance } of batches) {
    // n = 1 value per channel has no unbiased variance; PyTorch refuses such a batch in training too.
    if (variance.some((v) => Number.isNaN(v))) {
      throw new GradpipeError(fn, `BatchNormalization ${JSON.stringify(s.node)} in training needs more than one value per channel (as in PyTorch): use a batch larger than 1`);
    }
  }
  for (const { s, mean, variance } of batches) {
    const m = s.momentum;
    const runningMean = buffers[s.mean]!;
    const runningVar = buffers[s.variance]!;
    for (let i = 0; i < runningMean.length; i++) {
      runningMean[i] = (1 - m) * runningMean[i]! + m * mean[i]!;
      runningVar[i] = (1 - m) * runningVar[i]! + m * variance[i]!;
    }
  }
}
