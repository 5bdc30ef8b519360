/**
 * The sharded global norm with real threads: 4 worker_threads each hold a shard of one gradient set and clip it
 * with clipByGlobalNorm({ reduce }), the reduce being an all-reduce over a SharedArrayBuffer with Atomics
 * (tests/shardedWorker.mjs). Together they must produce, bit for bit, what one pipeline clipping the whole set
 * in this process produces — for normType 2, 1 and Infinity.
 *
 * The workers run the built package (packages/core/dist, made by `npm run build`, which CI runs first), this
 * process the TypeScript sources: the test also catches a stale build.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { clipByGlobalNorm, GradientPipeline, type Gradients, type TransformStats } from '@gradpipe/core';
import { describe, expect, it } from 'vitest';

const WORKER = fileURLToPath(new URL('./shardedWorker.mjs', import.meta.url));
const BUILT_CORE = fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url));
const WORLD_SIZE = 4;
const SLOT_LENGTH = 8;

/** A deterministic gradient set: 11 tensors of different sizes whose values span 1e-12 … 1e12. */
function gradientSet(): Gradients<Float32Array> {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const grads: Gradients<Float32Array> = {};
  for (let t = 0; t < 11; t++) {
    const size = [1, 7, 1000, 4096, 33, 0, 250, 5000, 2, 999, 64][t]!;
    const scale = 10 ** (Math.floor(random() * 25) - 12);
    grads[`layer${t}`] = Float32Array.from({ length: size }, () => (random() * 2 - 1) * scale);
  }
  return grads;
}

function copy(grads: Gradients<Float32Array>): Gradients<Float32Array> {
  return Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, v.slice()]));
}

function bits(grads: Gradients<Float32Array>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length))]));
}

interface ShardOutput {
  grads: Gradients<Float32Array>;
  transform: TransformStats;
}

async function clipInWorkers(grads: Gradients<Float32Array>, maxNorm: number, normType: number | 'inf'): Promise<ShardOutput[]> {
  const shared = {
    slots: new SharedArrayBuffer(WORLD_SIZE * SLOT_LENGTH * Float64Array.BYTES_PER_ELEMENT),
    control: new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
  };
  // Tensor i goes to worker i mod 4, so the shards hold different numbers of tensors and bytes.
  const shards: Gradients<Float32Array>[] = Array.from({ length: WORLD_SIZE }, () => ({}));
  Object.entries(grads).forEach(([name, t], i) => (shards[i % WORLD_SIZE]![name] = t.slice()));
  return Promise.all(
    shards.map(
      (shard, rank) =>
        new Promise<ShardOutput>((resolve, reject) => {
          const worker = new Worker(WORKER, {
            workerData: { rank, worldSize: WORLD_SIZE, shared, slotLength: SLOT_LENGTH, maxNorm, normType, grads: shard },
          });
          worker.once('message', (output: ShardOutput) => {
            resolve(output);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
}

describe('4 worker threads, each with a shard, clip like one process clipping everything', () => {
  it('has a built @gradpipe/core for the workers (run npm run build)', () => {
    expect(existsSync(BUILT_CORE)).toBe(true);
  });

  it.each([
    { normType: 2 as const, maxNorm: 1 },
    { normType: 1 as const, maxNorm: 3 },
    { normType: 'inf' as const, maxNorm: 0.5 },
    { normType: 2 as const, maxNorm: 1e30 }, // no clipping: the gradients come back untouched
  ])('normType $normType, maxNorm $maxNorm: bit-identical output and the same norm on every shard', async ({ normType, maxNorm }) => {
    const grads = gradientSet();
    const whole = new GradientPipeline([clipByGlobalNorm({ maxNorm, normType })]).step(copy(grads));
    const expected = whole.stats.transforms[0]!;
    expect(expected.clipped).toBe(maxNorm !== 1e30);

    const outputs = await clipInWorkers(grads, maxNorm, normType);
    const merged: Gradients<Float32Array> = {};
    for (const output of outputs) {
      expect(output.transform.figures.norm, 'global norm seen by a shard (a mismatch may mean a stale build)').toBe(expected.figures.norm);
      expect(output.transform.figures.factor).toBe(expected.figures.factor);
      expect(output.transform.clipped).toBe(expected.clipped);
      Object.assign(merged, output.grads);
    }
    expect(Object.keys(merged).sort()).toEqual(Object.keys(grads).sort());
    expect(bits(merged)).toEqual(bits(whole.grads));
    if (maxNorm === 1e30) expect(bits(merged)).toEqual(bits(grads));
  });
});
