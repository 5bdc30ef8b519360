import { clipByGlobalNorm, clipByNorm, GradientPipeline, normOf } from '@gradpipe/core';
import { tfjsOps } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { portableTfjsOps } from '../src/tfjsOps.js';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

/**
 * Finite float32 values from denormals to 1e29, as gradients can be. tfjs scalars are float32, so the clip
 * factor maxNorm / norm must stay a normal float32 (≥ 1.2e-38): with norms up to ~4e30 and maxNorm ≥ 1e-6 it
 * does. (Beyond that ratio the factor is a denormal with fewer significant bits; see docs/tfjs.md.)
 */
const value = fc.oneof(
  fc.float({ min: Math.fround(-1e29), max: Math.fround(1e29), noNaN: true }),
  fc.float({ min: -10, max: 10, noNaN: true }),
  fc.constantFrom(0, 1e-30, -1e29, 1e20, 1e-40),
);
const tensors = fc.array(fc.array(value, { minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 5 });
const maxNorm = fc.double({ min: 1e-6, max: 1e6, noNaN: true });

/** One step on tfjs; the outputs as Float32Arrays so the host can measure them in float64. */
function clip(ops: typeof tfjsOps, transform: 'global' | 'each', grads: number[][], threshold: number): Float32Array[] {
  const pipe = new GradientPipeline([
    transform === 'global' ? clipByGlobalNorm({ maxNorm: threshold }) : clipByNorm({ maxNorm: threshold }),
  ]);
  return tf.tidy(() => {
    const input = Object.fromEntries(grads.map((g, i) => [`t${i}`, tf.tensor1d(g)]));
    const { grads: out } = pipe.stepWith(ops, input);
    return grads.map((_, i) => out[`t${i}`]!.dataSync() as Float32Array);
  });
}

const CONFIGS = BACKENDS.flatMap((backend) => [
  { backend, label: 'tfjsOps', ops: tfjsOps },
  { backend, label: 'portable ops', ops: portableTfjsOps },
]);

describe.each(CONFIGS)('the clipped norm stays within the bound after float32 rounding ($label on $backend)', ({ backend, ops }) => {
  beforeAll(() => useBackend(backend));

  it('clipByGlobalNorm: ‖output‖ ≤ maxNorm, measured exactly in float64 on the host', async () => {
    await withoutLeaks(() => {
      fc.assert(
        fc.property(tensors, maxNorm, (grads, threshold) => {
          const out = clip(ops, 'global', grads, threshold);
          const norm = Math.hypot(...out.map((t) => normOf(t)));
          expect(norm).toBeLessThanOrEqual(threshold);
        }),
        { seed: 42, numRuns: 150 },
      );
    });
  });

  it('clipByNorm: every tensor ≤ maxNorm, and a tensor within the bound is left bit-identical', async () => {
    await withoutLeaks(() => {
      fc.assert(
        fc.property(tensors, maxNorm, (grads, threshold) => {
          const out = clip(ops, 'each', grads, threshold);
          out.forEach((t, i) => {
            const input = Float32Array.from(grads[i]!);
            if (normOf(input) <= threshold * (1 - 2 ** -20)) expect(Array.from(t)).toEqual(Array.from(input));
            else expect(normOf(t)).toBeLessThanOrEqual(threshold);
          });
        }),
        { seed: 42, numRuns: 150 },
      );
    });
  });

  it('keeps the norm of finite entries finite even above the largest float32 (saturated)', async () => {
    await withoutLeaks(() => {
      const [norm, inf] = tf.tidy(() => [
        ops.norm(tf.tensor1d([3e38, -3e38]), 2).dataSync()[0]!,
        ops.norm(tf.tensor1d([3e38, Infinity]), 2).dataSync()[0]!,
      ]);
      expect(norm).toBe(Math.fround(3.4028234663852886e38));
      expect(inf).toBe(Infinity);
    });
  });

  it('holds for a large tensor of a million values (row sums)', async () => {
    await withoutLeaks(() => {
      const big = tf.tidy(() => tf.mul(tf.randomUniform([1000, 1000], 0, 1, 'float32', 7), 3).dataSync() as Float32Array);
      const out = tf.tidy(() => {
        const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
        return pipe.stepWith(ops, { w: tf.tensor1d(big) }).grads.w!.dataSync() as Float32Array;
      });
      expect(normOf(out)).toBeLessThanOrEqual(1);
      expect(normOf(out)).toBeGreaterThan(1 - 2 ** -18);
    });
  });
});
