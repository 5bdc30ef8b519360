/**
 * Small helpers shared by the peer ports (optax, PyTorch, Keras, TensorFlow, AutoClip, ZClip): float32 arrays,
 * float64 reference norms, and the tolerance checks the peers' own test frameworks use, so that each ported
 * assertion keeps the tolerance its source had.
 *
 * Only gradpipe's public API is used (through `@gradpipe/core`).
 */

import { type AnyGradientTransform, GradientPipeline, type StepOptions, type StepResult } from '@gradpipe/core';
import { expect } from 'vitest';

/** Named float32 gradients (or parameters), as gradpipe's typed-array backend takes them. */
export type Grads = Record<string, Float32Array>;

/** A Float32Array of `values`. */
export const f32 = (...values: number[]): Float32Array => Float32Array.from(values);

/** `start, start + 1, …, end - 1` (numpy's / torch's `arange`) as float32. */
export function arange(start: number, end: number): Float32Array {
  return Float32Array.from({ length: end - start }, (_, i) => start + i);
}

/** Fresh float32 copies of named gradients, so that one input can feed several in-place steps. */
export function copy(grads: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Float32Array.from(v)]));
}

/** The p-norm of all `arrays` together, in float64 from their float32 values (p = Infinity: max |x|). */
export function norm64(arrays: readonly Float32Array[], p = 2): number {
  let max = 0;
  for (const a of arrays) for (const v of a) max = Math.max(max, Math.abs(v));
  if (p === Infinity || max === 0 || !Number.isFinite(max)) {
    for (const a of arrays) for (const v of a) if (Number.isNaN(v)) return NaN;
    return max;
  }
  let s = 0;
  for (const a of arrays) for (const v of a) s += (Math.abs(v) / max) ** p;
  return max * s ** (1 / p);
}

/** True when the two arrays hold the same bits (so a rescaling by a factor of 1 − 1e-16 would show). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** One step of a fresh one-transform (or chain) pipeline on `grads` (changed in place, as gradpipe does). */
export function runOnce(
  transforms: AnyGradientTransform | readonly AnyGradientTransform[],
  grads: Record<string, Float32Array>,
  options?: StepOptions<Float32Array>,
): StepResult<Float32Array> {
  const list = Array.isArray(transforms) ? transforms : [transforms as AnyGradientTransform];
  return new GradientPipeline(list).step(grads, options);
}

/**
 * The tolerances of the peers' assertions: |actual − expected| ≤ atol + rtol·|expected| elementwise, NaN equal
 * to NaN (numpy's `assert_allclose`, which all of them build on).
 */
export const TOLERANCE = {
  /** `np.testing.assert_allclose` defaults. */
  numpy: { rtol: 1e-7, atol: 0 },
  /** optax `test_utils.assert_trees_all_close` defaults. */
  optax: { rtol: 1e-6, atol: 0 },
  /** Keras `testing.TestCase.assertAllClose` and TensorFlow `test.TestCase.assertAllClose` defaults. */
  keras: { rtol: 1e-6, atol: 1e-6 },
  tensorflow: { rtol: 1e-6, atol: 1e-6 },
  /** `torch.testing` / `TestCase.assertEqual` defaults for float32. */
  torchFloat32: { rtol: 1.3e-6, atol: 1e-5 },
} as const;

/** Asserts numpy-style closeness of `actual` to `expected` (flat arrays or numbers). */
export function expectAllClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  { rtol, atol }: { rtol: number; atol: number },
): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => {
    const want = e[i]!;
    if (Number.isNaN(want)) return expect(v).toBeNaN();
    if (!Number.isFinite(want)) return expect(v).toBe(want);
    const err = Math.abs(v - want);
    if (!(err <= atol + rtol * Math.abs(want))) {
      throw new Error(`element ${i}: ${v} is not close to ${want} (|diff| ${err} > atol ${atol} + rtol ${rtol} · ${Math.abs(want)})`);
    }
  });
}

/** Python's `assertAlmostEqual(a, b, places)`: `round(a - b, places) == 0`. */
export function expectAlmostEqual(actual: number, expected: number, places = 7): void {
  const diff = Math.abs(actual - expected);
  if (!(Math.round(diff * 10 ** places) === 0)) {
    throw new Error(`${actual} != ${expected} within ${places} places (|diff| ${diff})`);
  }
}

/** The L2 norm of every unit of a row-major tensor, a unit being all elements that share `unitOf(index)`. */
export function unitNorms64(x: Float32Array, units: number, unitOf: (flatIndex: number) => number): number[] {
  const sums = new Array<number>(units).fill(0);
  x.forEach((v, i) => (sums[unitOf(i)]! += v * v));
  return sums.map(Math.sqrt);
}
