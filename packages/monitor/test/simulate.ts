import { clipByGlobalNorm, GradientPipeline, nanGuard } from '@gradpipe/core';
import { type RecordJsonlOptions, recordJsonl } from '@gradpipe/monitor';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface SimulatedRun {
  /** Steps to run. */
  steps: number;
  /** Clip at this global norm; undefined: no clipping (only the NaN guard). */
  maxNorm?: number;
  /** Steps whose gradients get a NaN. */
  nanSteps?: readonly number[];
  seed?: number;
}

/**
 * Runs a real GradientPipeline on made-up gradients (norms around 1 with spikes every 37 steps) and records it
 * to `path`. Returns the pipeline's own stats, to compare the log with.
 */
export async function simulate(path: string, run: SimulatedRun, options: RecordJsonlOptions = {}) {
  // Seeded, so every test log is the same on every machine.
  const rng = xoroshiro128plus(run.seed ?? 1);
  const random = () => uniformFloat64(rng);
  const transforms = [nanGuard({ policy: 'skip' }), ...(run.maxNorm === undefined ? [] : [clipByGlobalNorm({ maxNorm: run.maxNorm })])];
  const pipe = new GradientPipeline(transforms);
  const recorder = recordJsonl(pipe.events$, path, options);
  const stats = [];
  for (let step = 0; step < run.steps; step++) {
    const scale = step % 37 === 5 ? 20 : 0.5 + random();
    const w = new Float32Array(8).map(() => (random() - 0.5) * scale);
    if (run.nanSteps?.includes(step)) w[3] = Number.NaN;
    const loss = 2 * Math.exp(-step / 50) + 0.05 * random();
    stats.push(pipe.step({ w }, { loss }).stats);
  }
  await recorder.close();
  return stats;
}
