/**
 * Keras 3's gradient-clipping tests, ported to gradpipe's transforms.
 *
 * Source: keras-team/keras at 3422977a, `keras/src/optimizers/optimizer_test.py` (`OptimizerTest.test_clip_norm`,
 * `test_clip_value`, `test_global_clip_norm`) and the identical `test_clip_norm` / `test_clip_value` of every
 * optimizer's test file (`sgd_test.py`, `adam_test.py`, `adamw_test.py`, `adadelta_test.py`, `adagrad_test.py`,
 * `adamax_test.py`, `adafactor_test.py`, `ftrl_test.py`, `lamb_test.py`, `lion_test.py`, `muon_test.py`,
 * `nadam_test.py`, `rmsprop_test.py`, `schedule_free_adamw_test.py`). Those tests call
 * `optimizer._clip_gradients(grads)` (`keras/src/optimizers/base_optimizer.py`), which is exactly one of
 * gradpipe's transforms: `clipnorm` → clipByNorm, `clipvalue` → clipByValue, `global_clipnorm` → clipByGlobalNorm.
 *
 * The optimizer-level cases (`test_clip_args`, `test_empty_gradients`, `test_clipnorm_indexed_slices`, clipping
 * inside `apply_gradients`) are ported with `withClipping` in `adapters/tfjs/test/peers/keras.test.ts`.
 * Tolerances are Keras' `assertAllClose` defaults (rtol 1e-6, atol 1e-6).
 */

import { clipByGlobalNorm, clipByNorm, clipByValue } from '@gradpipe/core';
import { describe, expect, it } from 'vitest';
import { expectAllClose, f32, norm64, runOnce, sameBits, TOLERANCE } from './support.js';

const OPTIMIZER_TESTS = [
  'optimizer_test.py',
  'sgd_test.py',
  'adam_test.py',
  'adamw_test.py',
  'adadelta_test.py',
  'adagrad_test.py',
  'adamax_test.py',
  'adafactor_test.py',
  'ftrl_test.py',
  'lamb_test.py',
  'lion_test.py',
  'muon_test.py',
  'nadam_test.py',
  'rmsprop_test.py',
  'schedule_free_adamw_test.py',
];

describe('Keras _clip_gradients (keras/src/optimizers/*_test.py)', () => {
  it(`test_clip_norm (${OPTIMIZER_TESTS.length} files): clipnorm=1 clips [100, 100] to [√2/2, √2/2]`, () => {
    const { grads, stats } = runOnce(clipByNorm({ maxNorm: 1 }), { g: f32(100, 100) });
    expectAllClose(grads.g!, [2 ** 0.5 / 2, 2 ** 0.5 / 2], TOLERANCE.keras);
    // Keras computes g·clipnorm / max(‖g‖, clipnorm); gradpipe's stored norm is ≤ clipnorm exactly.
    expect(norm64([grads.g!])).toBeLessThanOrEqual(1);
    expect(stats.clipped).toBe(true);
  });

  it(`test_clip_value (${OPTIMIZER_TESTS.length} files): clipvalue=1 clips [100, 100] to [1, 1]`, () => {
    const { grads } = runOnce(clipByValue(1), { g: f32(100, 100) });
    expect(Array.from(grads.g!)).toEqual([1, 1]);
  });

  it('test_global_clip_norm: global_clipnorm=1 clips [50, 100] to grad / ‖grad‖', () => {
    const grad = f32(50, 100);
    const globalNorm = Math.hypot(50, 100); // np.linalg.norm(grad)
    const { grads } = runOnce(clipByGlobalNorm({ maxNorm: 1 }), { g: Float32Array.from(grad) });
    expectAllClose(
      grads.g!,
      Array.from(grad, (v) => v / globalNorm),
      TOLERANCE.keras,
    );
    expect(norm64([grads.g!])).toBeLessThanOrEqual(1);
  });

  it('clipnorm is per variable, global_clipnorm across variables (the base_optimizer.py docstrings)', () => {
    // "clipnorm: the gradient of each weight is individually clipped so that its norm is no higher than this
    // value"; "global_clipnorm: the gradient of all weights is clipped so that their global norm is no higher".
    const each = runOnce(clipByNorm({ maxNorm: 1 }), { a: f32(100, 100), b: f32(0.5) }).grads;
    expectAllClose(each.a!, [2 ** 0.5 / 2, 2 ** 0.5 / 2], TOLERANCE.keras);
    expect(sameBits(each.b!, f32(0.5))).toBe(true); // within its own bound: untouched
    const all = runOnce(clipByGlobalNorm({ maxNorm: 1 }), { a: f32(100, 100), b: f32(0.5) }).grads;
    const global = Math.hypot(100, 100, 0.5);
    expectAllClose([...all.a!, ...all.b!], [100 / global, 100 / global, 0.5 / global], TOLERANCE.keras);
  });
});
