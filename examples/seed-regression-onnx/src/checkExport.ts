import type { RegressionData } from '@gradpipe/example-seed-data';
import type { OrtTrainer } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { batch } from './runExperiment.js';

/**
 * Exports the trained model and runs it in a fresh `InferenceSession` on the whole data set: returns the largest
 * difference from the trainer's own predictions (0 when the export carries exactly the trained weights) and the
 * MSE of the exported model.
 *
 * @example
 * ```ts
 * const { maxDifference } = await checkExport(trainer, data);
 * ```
 */
export async function checkExport(
  trainer: OrtTrainer,
  data: RegressionData,
): Promise<{ bytes: Uint8Array; maxDifference: number; mse: number }> {
  const { x, y } = batch(
    data,
    Array.from({ length: data.samples }, (_, i) => i),
  );
  const fromTrainer = (await trainer.predict({ input: x })).data as Float32Array;
  const bytes = trainer.exportModel();
  const session = await ort.InferenceSession.create(bytes);
  const fromExport = (await session.run({ input: x })).output!.data as Float32Array;
  await session.release();
  let maxDifference = 0;
  let sq = 0;
  const targets = y.data as Float32Array;
  fromExport.forEach((v, i) => {
    maxDifference = Math.max(maxDifference, Math.abs(v - fromTrainer[i]!));
    sq += (v - targets[i]!) ** 2;
  });
  return { bytes, maxDifference, mse: sq / data.samples };
}
