/**
 * TensorFlow's clip_ops tests, ported to gradpipe.
 *
 * Sources (tensorflow/tensorflow):
 * - `tensorflow/python/kernel_tests/math_ops/clip_ops_test.py` at 37b680c9, class `ClipTest` (the older
 *   `tensorflow/python/kernel_tests/clip_ops_test.py`, at a170aef5, has the same cases; where it differs, said so);
 * - `tensorflow/python/ops/clip_ops_test.py` at 95b0407e, class `ClipOpsTest`.
 *
 * Tolerances are TensorFlow's `assertAllClose` defaults (rtol 1e-6, atol 1e-6). A `[2, 3]` constant is the
 * flat row-major Float32Array of its six values. IndexedSlices are a sparse form of the same values: gradpipe
 * clips dense tensors, so their cases are ported on the values.
 *
 * Not ported: gradients of the clip ops (`testClipByValueGradient`, `testClipByNormGradientZeros`: gradpipe has no
 * autodiff), integer dtypes, per-element tensor bounds (`testClipByValue1Type`, `testClipByValue3Type`: gradpipe's
 * bounds are scalars), `testClipByGlobalNormSupportsNone` (core gradients have no `None`; the tfjs adapter passes
 * null gradients over), `testClipByGlobalNormPreservesDenseShape` (no IndexedSlices).
 */

import { agc, clipByGlobalNorm, clipByNorm, clipByValue, GradpipeError } from '@gradpipe/core';
import { describe, expect, it } from 'vitest';
import { copy, expectAllClose, f32, runOnce, sameBits, TOLERANCE } from './support.js';

const TF = TOLERANCE.tensorflow;

describe('ClipTest: clip_by_value', () => {
  it('testClipByValue: [[-5, 2, 3], [4, 5, 6]] into [-4.4, 4.4]', () => {
    const { grads } = runOnce(clipByValue(4.4), { x: f32(-5, 2, 3, 4, 5, 6) });
    expectAllClose(grads.x!, [-4.4, 2, 3, 4, 4.4, 4.4], TF);
  });

  it('testClipByValue0Type (float dtypes): [[1, 2, 3], [4, 5, 6]] into [2, 4]', () => {
    const { grads } = runOnce(clipByValue({ min: 2, max: 4 }), { x: f32(1, 2, 3, 4, 5, 6) });
    expect(Array.from(grads.x!)).toEqual([2, 2, 3, 4, 4, 4]);
  });

  it('testClipByValue2Type: min 4, max a tensor of 6s (a constant bound) → [[4, 4, 4], [4, 5, 6]]', () => {
    const { grads } = runOnce(clipByValue({ min: 4, max: 6 }), { x: f32(1, 2, 3, 4, 5, 6) });
    expect(Array.from(grads.x!)).toEqual([4, 4, 4, 4, 5, 6]);
  });

  it('testClipByValueBadShape: a bound that is not a scalar is refused (TF: ValueError)', () => {
    expect(() => clipByValue({ min: -1, max: f32(1, 2) as unknown as number })).toThrow(GradpipeError);
    expect(() => clipByValue({ min: 1, max: [1, 2] as unknown as number })).toThrow(GradpipeError);
  });

  it('testClipByValueNonFinite: [NaN, Inf, -Inf] into [-4, 4] → [NaN, 4, -4]', () => {
    const { grads } = runOnce(clipByValue(4), { x: f32(NaN, Infinity, -Infinity) });
    expectAllClose(grads.x!, [NaN, 4, -4], TF);
  });

  it('testClipByValueWithIndexedSlicesClipped: the slices’ values into [-2, 2], [1, 2] and [-2, -1]', () => {
    const values = () => ({ v: f32(-3, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, -1) });
    const cases: [number, number, number[]][] = [
      [-2, 2, [-2, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, -1]],
      [1, 2, [1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1]],
      [-2, -1, [-2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]],
    ];
    for (const [min, max, expected] of cases) {
      expectAllClose(runOnce(clipByValue({ min, max }), values()).grads.v!, expected, TF);
    }
  });

  it('testClipByValueEmptyTensor: a tensor of shape (7, 0) passes through every bound', () => {
    for (const [min, max] of [
      [0, 0],
      [1, 1],
      [0, 1],
    ]) {
      const { grads, stats } = runOnce(clipByValue({ min: min!, max: max! }), { zero: new Float32Array(0) });
      expect(grads.zero!.length).toBe(0);
      expect(stats.clipped).toBe(false);
    }
    // TF's fourth case, clip_by_value(zero, 1.0, zero), has a tensor as max; with scalar bounds min 1 > max 0
    // is refused.
    expect(() => clipByValue({ min: 1, max: 0 })).toThrow(GradpipeError);
  });
});

describe('ClipTest: clip_by_norm', () => {
  const x = () => ({ x: f32(-3, 0, 0, 4, 0, 0) }); // norm √(3² + 4²) = 5

  it('testClipByNormClipped: norm 5 clipped to 4 → [[-2.4, 0, 0], [3.2, 0, 0]]', () => {
    const { grads, stats } = runOnce(clipByNorm({ maxNorm: 4 }), x());
    expectAllClose(grads.x!, [-2.4, 0, 0, 3.2, 0, 0], TF);
    expect(stats.clipped).toBe(true);
  });

  it('testClipByNormBadShape: a clip norm that is not a scalar is refused (TF: ValueError)', () => {
    expect(() => clipByNorm({ maxNorm: f32(1, 2) as unknown as number })).toThrow(GradpipeError);
  });

  it('testClipByNormNotClipped: clip 6 ≥ 5 → unchanged (gradpipe: bit-identical)', () => {
    const { grads, stats } = runOnce(clipByNorm({ maxNorm: 6 }), x());
    expect(sameBits(grads.x!, x().x!)).toBe(true);
    expect(stats.clipped).toBe(false);
  });

  it('testClipByNormZero: a zero tensor stays zero', () => {
    const { grads } = runOnce(clipByNorm({ maxNorm: 6 }), { x: new Float32Array(6) });
    expect(sameBits(grads.x!, new Float32Array(6))).toBe(true);
  });

  // clip_by_norm(x, c, axes) clips every slice along `axes` to norm c. gradpipe's clipByNorm has no axes; a fixed
  // per-unit bound is agc with zero weights and eps 1: its limit is clipping · max(‖W unit‖, eps) = c · 1.
  const perUnit = (c: number, unitAxis: 'first' | 'last') => agc({ clipping: c, eps: 1, unitAxis });
  const xd = () => ({ x: f32(-3, 0, 0, 4, 0, 3) });
  const zeros = { x: new Float32Array(6) };

  it('testClipByNormClippedWithDim0: columns (norms 5, 0, 3) clipped to 4 → [[-2.4, 0, 0], [3.2, 0, 3]] (via agc)', () => {
    const { grads } = runOnce(perUnit(4, 'last'), xd(), { params: zeros, shapes: { x: [2, 3] } });
    expectAllClose(grads.x!, [-2.4, 0, 0, 3.2, 0, 3], TF);
  });

  it('testClipByNormClippedWithDim1: rows (norms 3, 5) clipped to 4 → [[-3, 0, 0], [3.2, 0, 2.4]] (via agc)', () => {
    const { grads } = runOnce(perUnit(4, 'first'), xd(), { params: zeros, shapes: { x: [2, 3] } });
    expectAllClose(grads.x!, [-3, 0, 0, 3.2, 0, 2.4], TF);
  });

  it('testClipByNormNotClippedWithAxes: rows with clip 6 → unchanged (via agc)', () => {
    const { grads } = runOnce(perUnit(6, 'first'), xd(), { params: zeros, shapes: { x: [2, 3] } });
    expect(sameBits(grads.x!, xd().x!)).toBe(true);
  });
});

describe('ClipTest: clip_by_global_norm', () => {
  // x0 = [[-2, 0, 0], [4, 0, 0]], x1 = [1, -2]: global norm √(2² + 4² + 1² + 2²) = 5.
  const pair = () => ({ x0: f32(-2, 0, 0, 4, 0, 0), x1: f32(1, -2) });

  it.each([
    ['testClipByGlobalNormClipped', 4],
    ['testClipByGlobalNormClippedTensor (clip_norm as a tensor: a number here)', 4],
    ['testClipByGlobalNormWithIndexedSlicesClipped (x1 as slices: its values here)', 4],
  ])('%s: clip 4 scales both by 4/5; the norm is 5', (_name, clipNorm) => {
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: clipNorm }), pair());
    expectAllClose(stats.normBefore, 5, TF);
    expectAllClose(grads.x0!, [-1.6, 0, 0, 3.2, 0, 0], TF);
    expectAllClose(grads.x1!, [0.8, -1.6], TF);
  });

  it('testClipByGlobalNormNotClipped: clip 6 → unchanged, norm 5', () => {
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: 6 }), pair());
    expectAllClose(stats.normBefore, 5, TF);
    for (const [k, v] of Object.entries(pair())) expect(sameBits(grads[k]!, v)).toBe(true);
  });

  it('testClipByGlobalNormZero: zeros stay zeros, norm 0', () => {
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: 6 }), { x0: new Float32Array(6), x1: new Float32Array(2) });
    expect(stats.normBefore).toBe(0);
    expect(Array.from(grads.x0!)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(grads.x1!)).toEqual([0, 0]);
  });

  it('testClipByGlobalNormInf: the norm is inf; TF returns all-NaN tensors, gradpipe leaves them as they were', () => {
    const input = { x0: f32(-2, 0, Infinity, 4, 0, 0), x1: f32(1, -2) };
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: 6 }), copy(input));
    expect(stats.normBefore).toBe(Infinity); // self.assertAllEqual(tf_norm, float('inf'))
    // TF now gives NaN everywhere (the older kernel_tests/clip_ops_test.py expected an InvalidArgumentError
    // "global norm"). Deliberately different: a non-finite norm scales by exactly 1, so one bad entry does not
    // turn every gradient of the model into NaN; nanGuard (skip / zero / throw) is the tool for that step.
    expect(stats.clipped).toBe(false);
    for (const [k, v] of Object.entries(input)) expect(sameBits(grads[k]!, v)).toBe(true);
  });

  it('testClipByGlobalNormInf (older TF: InvalidArgumentError "global norm"): errorIfNonfinite throws, nothing changed (issue 13 item 5)', () => {
    const input = { x0: f32(-2, 0, Infinity, 4, 0, 0), x1: f32(1, -2) };
    const grads = copy(input);
    expect(() => runOnce(clipByGlobalNorm({ maxNorm: 6, errorIfNonfinite: true }), grads)).toThrow(GradpipeError);
    expect(() => runOnce(clipByGlobalNorm({ maxNorm: 6, errorIfNonfinite: true }), copy(input))).toThrow(
      /global 2-norm of the gradients is not finite/,
    );
    for (const [k, v] of Object.entries(input)) expect(sameBits(grads[k]!, v)).toBe(true);
  });
});

describe('ClipTest: clip_by_average_norm (= clip_by_norm with clip · size, as testClipByAverageNormReplacedWithClipByNorm states)', () => {
  const x = () => ({ x: f32(-3, 0, 0, 4, 0, 0) }); // average norm 5 / 6 = 0.8333…
  const averageNorm = (clip: number) => clipByNorm({ maxNorm: clip * 6 });

  it('testClipByAverageNormClipped (and …ClippedTensor): clip 0.8 → [[-2.88, 0, 0], [3.84, 0, 0]]', () => {
    expectAllClose(runOnce(averageNorm(0.8), x()).grads.x!, [-2.88, 0, 0, 3.84, 0, 0], TF);
  });

  it('testClipByAverageNormNotClipped: clip 0.9 → unchanged', () => {
    expect(sameBits(runOnce(averageNorm(0.9), x()).grads.x!, x().x!)).toBe(true);
  });

  it('testClipByAverageNormZero: zeros stay zeros', () => {
    expect(Array.from(runOnce(averageNorm(0.9), { x: new Float32Array(6) }).grads.x!)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('ClipOpsTest (tensorflow/python/ops/clip_ops_test.py)', () => {
  it('testClipTensorByNorm: simple, no clipping, zero norm', () => {
    expectAllClose(runOnce(clipByNorm({ maxNorm: 4 }), { t: f32(-3, 0, 0, 4, 0, 0) }).grads.t!, [-2.4, 0, 0, 3.2, 0, 0], TF);
    expectAllClose(runOnce(clipByNorm({ maxNorm: 4 }), { t: f32(1, 0, 0, 1, 0, 0) }).grads.t!, [1, 0, 0, 1, 0, 0], TF);
    expectAllClose(runOnce(clipByNorm({ maxNorm: 4 }), { t: new Float32Array(6) }).grads.t!, [0, 0, 0, 0, 0, 0], TF);
  });

  it('testClipTensorByGlobalNorm: two tensors [-3, 0, 0] and [4, 0, 0] (global norm 5) clipped to 4; no clipping; zero', () => {
    const clip = (a: number[], b: number[]) => {
      const { grads } = runOnce(clipByGlobalNorm({ maxNorm: 4 }), { a: Float32Array.from(a), b: Float32Array.from(b) });
      return [...grads.a!, ...grads.b!];
    };
    expectAllClose(clip([-3, 0, 0], [4, 0, 0]), [-2.4, 0, 0, 3.2, 0, 0], TF);
    expectAllClose(clip([1, 0, 0], [1, 0, 0]), [1, 0, 0, 1, 0, 0], TF);
    expectAllClose(clip([0, 0, 0], [0, 0, 0]), [0, 0, 0, 0, 0, 0], TF);
  });

  it.each([Infinity, -Infinity, NaN])('testGlobalClipWithNonfinite (%s): TF makes every value NaN; gradpipe changes nothing', (bad) => {
    const input = { a: f32(-3, 0, 0), b: f32(bad, 0, 0) };
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: 4 }), copy(input));
    expect(Number.isFinite(stats.normBefore)).toBe(false);
    // Deliberately different (see testClipByGlobalNormInf): the finite tensor a stays [-3, 0, 0], not NaN.
    for (const [k, v] of Object.entries(input)) expect(sameBits(grads[k]!, v)).toBe(true);
  });

  it('testClipIndexedSlicesByNorm: the slices’ values clip as the dense tensor does (whole-tensor norm)', () => {
    // values [[[-3, 0, 0], [4, 0, 0]], [[0, 2, 0], [0, 0, -1]]] scattered into a [10, 2, 3] tensor: the zeros
    // around them change no norm, so clipping the values alone equals clipping the dense tensor.
    const values = f32(-3, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, -1);
    const dense = new Float32Array(60);
    dense.set(values.subarray(0, 6), 2 * 6);
    dense.set(values.subarray(6), 6 * 6);
    const v = runOnce(clipByNorm({ maxNorm: 4 }), { v: Float32Array.from(values) }).grads.v!;
    const d = runOnce(clipByNorm({ maxNorm: 4 }), { d: dense }).grads.d!;
    expectAllClose([...v], [...d.subarray(12, 18), ...d.subarray(36, 42)], TF);
  });
});
