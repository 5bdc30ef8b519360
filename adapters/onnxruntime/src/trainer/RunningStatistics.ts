import { GradpipeError } from '@gradpipe/core';
import type * as ort from 'onnxruntime-node';
import { decodeFloats } from '../support/base64.js';
import type { RunningStatistics } from '../training/lowerTrainingForms.js';

/** One batch's statistics, by the running-statistic initializer they update (mean → batch mean, variance → batch variance). */
export type BatchStatistics = Record<string, Float32Array>;

/**
 * Updates training-mode BatchNormalization's running statistics with PyTorch's rule from one batch's
 * statistics: `running ← (1 − momentum)·running + momentum·batch`, the batch variance unbiased.
 */
export function updateRunningStatistics(
  stats: readonly RunningStatistics[],
  buffers: Record<string, Float32Array>,
  batch: BatchStatistics,
): void {
  for (const s of stats) {
    const m = s.momentum;
    for (const name of [s.mean, s.variance]) {
      const running = buffers[name]!;
      const values = batch[name]!;
      for (let i = 0; i < running.length; i++) running[i] = (1 - m) * running[i]! + m * values[i]!;
    }
  }
}

/**
 * The batch statistics of the (micro-)batches since the last update: applied, in order, when the update is
 * applied, dropped when it is skipped — so a skipped update changes no statistic either.
 */
export class PendingStatistics {
  private batches: BatchStatistics[] = [];

  constructor(private readonly stats: readonly RunningStatistics[]) {}

  /** How many batches wait. */
  get size(): number {
    return this.batches.length;
  }

  /** Refuses a batch whose variance has no unbiased value (one value per channel), as PyTorch does in training. */
  check(fn: string, outputs: Readonly<Record<string, ort.Tensor>>): void {
    for (const s of this.stats) {
      if ((outputs[s.batchVariance]!.data as Float32Array).some((v) => Number.isNaN(v) || v === Number.POSITIVE_INFINITY)) {
        throw new GradpipeError(
          fn,
          `BatchNormalization ${JSON.stringify(s.node)} in training needs more than one value per channel (as in PyTorch): use a batch larger than 1`,
        );
      }
    }
  }

  /** Keeps this run's batch statistics (copies). */
  add(outputs: Readonly<Record<string, ort.Tensor>>): void {
    if (this.stats.length === 0) return;
    const batch: BatchStatistics = {};
    for (const s of this.stats) {
      batch[s.mean] = Float32Array.from(outputs[s.batchMean]!.data as Float32Array);
      batch[s.variance] = Float32Array.from(outputs[s.batchVariance]!.data as Float32Array);
    }
    this.batches.push(batch);
  }

  /** The waiting batches, which are forgotten here. */
  take(): BatchStatistics[] {
    const taken = this.batches;
    this.batches = [];
    return taken;
  }

  /** The waiting batches as base64 float32, for a state saved mid-accumulation. */
  toJSON(): Record<string, string>[] {
    return this.batches.map((b) =>
      Object.fromEntries(Object.entries(b).map(([n, v]) => [n, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')])),
    );
  }

  /**
   * Restores saved batches, checked: one per accumulated micro-batch, each with every running statistic's
   * values — base64 of finite float32, as many as the statistic has (`lengths`), variances >= 0.
   */
  restore(fn: string, json: readonly Record<string, string>[], pending: number, lengths: ReadonlyMap<string, number>): void {
    if (json.length !== pending)
      throw new GradpipeError(fn, `state.pendingStatistics has ${json.length} batches for ${pending} accumulated micro-batches`);
    const variances = new Set(this.stats.map((s) => s.variance));
    const names = this.stats.flatMap((s) => [s.mean, s.variance]);
    this.batches = json.map((b, i) => {
      const batch: BatchStatistics = {};
      for (const [name, text] of Object.entries(b)) {
        if (!names.includes(name))
          throw new GradpipeError(
            fn,
            `state.pendingStatistics[${i}] has ${JSON.stringify(name)}, which is no running statistic of the model (${names.join(', ')})`,
          );
        batch[name] = decodeFloats(fn, `state.pendingStatistics[${i}][${JSON.stringify(name)}]`, text, {
          bytes: 4,
          length: lengths.get(name)!,
          nonNegative: variances.has(name),
        }) as Float32Array;
      }
      const missing = names.find((n) => !(n in batch));
      if (missing !== undefined) throw new GradpipeError(fn, `state.pendingStatistics[${i}] has no ${JSON.stringify(missing)}`);
      return batch;
    });
  }
}
