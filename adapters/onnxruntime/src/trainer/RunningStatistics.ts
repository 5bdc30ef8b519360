import type * as ort from 'onnxruntime-node';
import { GradpipeError, describeValue } from '@gradpipe/core';
import type { RunningStatistics } from '../training/lowerTrainingForms.js';

/** One batch's statistics, by the running-statistic initializer they update (mean → batch mean, variance → batch variance). */
export type BatchStatistics = Record<string, Float32Array>;

/**
 * Updates training-mode BatchNormalization's running statistics with PyTorch's rule from one batch's
 * statistics: `running ← (1 − momentum)·running + momentum·batch`, the batch variance unbiased.
 */
export function updateRunningStatistics(stats: readonly RunningStatistics[], buffers: Record<string, Float32Array>, batch: BatchStatistics): void {
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
        throw new GradpipeError(fn, `BatchNormalization ${JSON.stringify(s.node)} in training needs more than one value per channel (as in PyTorch): use a batch larger than 1`);
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
    return this.batches.map((b) => Object.fromEntries(Object.entries(b).map(([n, v]) => [n, Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')])));
  }

  /** Restores saved batches, checking names and lengths; their count must be the accumulator's. */
  restore(fn: string, json: readonly Record<string, string>[], pending: number): void {
    if (json.length !== pending) throw new GradpipeError(fn, `state.pendingStatistics has ${json.length} batches for ${pending} accumulated micro-batches`);
    const expected = new Map(this.stats.flatMap((s) => [[s.mean, s], [s.variance, s]] as const));
    this.batches = json.map((b) => {
      const batch: BatchStatistics = {};
      for (const [name, text] of Object.entries(b)) {
        if (!expected.has(name) || typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
          throw new GradpipeError(fn, `state.pendingStatistics has ${JSON.stringify(name)} = ${describeValue(text)}, which is no running statistic's base64 values`);
        }
        const bytes = new Uint8Array(Buffer.from(text, 'base64'));
        batch[name] = new Float32Array(bytes.buffer, 0, Math.floor(bytes.byteLength / 4));
      }
      if (Object.keys(batch).length !== expected.size) throw new GradpipeError(fn, 'state.pendingStatistics misses some running statistics');
      return batch;
    });
  }
}
