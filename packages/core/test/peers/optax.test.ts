/**
 * optax's clipping tests, ported to gradpipe.
 *
 * Sources (google-deepmind/optax at 2edbcbe2):
 * - `optax/transforms/_clipping_test.py`, class `ClippingTest` (the same cases as the older
 *   `optax/_src/clipping_test.py` before commit 36ee9f46 moved them, with `places=6` on the block-RMS check);
 * - the doctests of `per_example_global_norm_clip` in `optax/transforms/_clipping.py`;
 * - `optax/transforms/_conditionality_test.py::ConditionalityTest.test_apply_if_finite` (gradpipe's `nanGuard`
 *   is optax's `apply_if_finite`).
 *
 * The fixtures are optax's `setUp`: params `([1, 2], [3, 4])`, per-step updates `([500, 5], [300, 3])`.
 * Tolerances are optax's (`assert_trees_all_close`: rtol 1e-6; `assertAlmostEqual(…, places)`).
 *
 * Issue 13, item 5 (peer parity, new features): `l2_norm_clip = jnp.inf` (gradpipe's `maxNorm: Infinity`) and
 * `adaptive_grad_clip(axis=…)` (gradpipe's `agc({ axes })`) are ported here now that gradpipe has them; the second
 * also against a direct transliteration of optax's `unitwise_norm` / `unitwise_clip` over random shapes and axes.
 */

import {
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  GradientPipeline,
  GradpipeError,
  nanGuard,
  typedArrayOps,
  unitLayout,
} from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copy, expectAllClose, expectAlmostEqual, f32, type Grads, norm64, runOnce, sameBits, TOLERANCE, unitNorms64 } from './support.js';

const STEPS = 50;
const initParams = (): Grads => ({ p0: f32(1, 2), p1: f32(3, 4) });
const perStepUpdates = (): Grads => ({ p0: f32(500, 5), p1: f32(300, 3) });
const rms = (t: Float32Array) => norm64([t]) / Math.sqrt(t.length);

describe('optax ClippingTest (optax/transforms/_clipping_test.py)', () => {
  it('test_clip: a large delta changes nothing; delta 1 makes every update exactly 1', () => {
    const updates = perStepUpdates();
    const untouched = runOnce(clipByValue(1e6), copy(updates)).grads;
    // optax: assert_trees_all_close(clipped, updates). gradpipe: bit-identical (stronger).
    for (const k of Object.keys(updates)) expect(sameBits(untouched[k]!, updates[k]!)).toBe(true);

    const ones = runOnce(clipByValue(1), copy(updates)).grads;
    for (const t of Object.values(ones)) expect(Array.from(t)).toEqual([1, 1]);
  });

  it('test_clip_by_block_rms: block RMS ≤ 1/i for i = 1…50, and clipping again is harmless (via clipByNorm)', () => {
    // gradpipe has no clip_by_block_rms; RMS = ‖u‖/√n, so it is clipByNorm with maxNorm = threshold·√n per tensor
    // (both tensors here have n = 2).
    let updates = perStepUpdates();
    for (let i = 1; i <= STEPS; i++) {
      const threshold = 1 / i;
      const clipper = () => clipByNorm({ maxNorm: threshold * Math.sqrt(2) });
      updates = runOnce(clipper(), updates).grads;
      expectAlmostEqual(rms(updates.p0!), threshold, 6);
      expectAlmostEqual(rms(updates.p1!), threshold, 6);
      // gradpipe guarantees the bound itself, not only 6 places: ‖u‖ ≤ maxNorm.
      for (const t of Object.values(updates)) expect(norm64([t])).toBeLessThanOrEqual(threshold * Math.sqrt(2));
      const direct = runOnce(clipper(), perStepUpdates()).grads;
      for (const k of Object.keys(updates)) expectAllClose(updates[k]!, direct[k]!, TOLERANCE.optax);
    }
  });

  it('test_clip_by_global_norm: global norm ≈ 1/i (6 places) for i = 1…50, and re-clipping matches clipping once', () => {
    let updates = perStepUpdates();
    for (let i = 1; i <= STEPS; i++) {
      const maxNorm = 1 / i;
      updates = runOnce(clipByGlobalNorm({ maxNorm }), updates).grads;
      const norm = norm64(Object.values(updates));
      expectAlmostEqual(norm, maxNorm, 6);
      // Deliberately stricter than optax, whose (t / g_norm) * max_norm in float32 can land just above max_norm:
      // gradpipe's float64 factor with its float32 safety margin keeps the stored norm ≤ maxNorm exactly.
      expect(norm).toBeLessThanOrEqual(maxNorm);
      const direct = runOnce(clipByGlobalNorm({ maxNorm }), perStepUpdates()).grads;
      for (const k of Object.keys(updates)) expectAllClose(updates[k]!, direct[k]!, TOLERANCE.optax);
    }
  });

  it('test_adaptive_grad_clip: unit-wise ‖u‖ − c·‖p‖ < 1e-6 for c = 1/i, i = 1…50; re-clipping matches clipping once', () => {
    const params = initParams();
    let updates = perStepUpdates();
    for (let i = 1; i <= STEPS; i++) {
      const clipping = 1 / i;
      // A 1-D tensor is one unit in both optax (unitwise_norm of a vector) and gradpipe (no shape: one unit).
      updates = runOnce(agc({ clipping }), updates, { params }).grads;
      for (const k of Object.keys(updates)) {
        const [u, p] = [norm64([updates[k]!]), norm64([params[k]!])];
        expect(u - clipping * p).toBeLessThan(1e-6);
        expect(u).toBeLessThanOrEqual(clipping * Math.max(p, 1e-3)); // gradpipe: the exact bound (eps 1e-3 as optax)
      }
      const direct = runOnce(agc({ clipping }), perStepUpdates(), { params }).grads;
      for (const k of Object.keys(updates)) expectAllClose(updates[k]!, direct[k]!, TOLERANCE.optax);
    }
  });

  it('test_adaptive_grad_clip, simple 2-D case: [[1, 2], [3, 4]] with unit params, clipping 1', () => {
    // optax reduces a rank-2 tensor over axis 0 (a linear layer [in, out]): a unit is a column, gradpipe's
    // unitAxis 'last' with the shape given.
    const grads = { w: f32(1, 2, 3, 4) };
    const params = { w: f32(1, 1, 1, 1) };
    const out = runOnce(agc({ clipping: 1, unitAxis: 'last' }), grads, { params, shapes: { w: [2, 2] } }).grads.w!;
    const columns = (x: Float32Array) => unitNorms64(x, 2, (i) => i % 2);
    const [clipped, limit] = [columns(out), columns(params.w)];
    clipped.forEach((n, j) => {
      expect(n).toBeLessThanOrEqual(1 * limit[j]! + 1e-6);
      expect(n).toBeLessThanOrEqual(limit[j]!); // gradpipe: no epsilon needed
    });
  });

  it('test_adaptive_grad_clip_default_axis_conv3d: a rank-5 kernel is clipped per output channel (axes 0–3)', () => {
    // optax's default for rank 5 (DHWIO) reduces over (0, 1, 2, 3): one unit per output channel, the last axis.
    const shape = [2, 2, 2, 3, 4];
    const size = 2 * 2 * 2 * 3 * 4;
    const grads = { k: new Float32Array(size).fill(2) };
    const params = { k: new Float32Array(size).fill(1) };
    const out = runOnce(agc({ clipping: 0.5, unitAxis: 'last' }), grads, { params, shapes: { k: shape } }).grads.k!;
    const perChannel = (x: Float32Array) => unitNorms64(x, 4, (i) => i % 4);
    const [clipped, paramNorms] = [perChannel(out), perChannel(params.k)];
    clipped.forEach((n, j) => expect(n).toBeLessThanOrEqual(0.5 * paramNorms[j]! + 1e-6));
    // From the math: each channel's gradient norm 2·√24 is brought to 0.5·√24, i.e. every entry to ~0.5.
    expectAllClose(out, new Float32Array(size).fill(0.5), TOLERANCE.optax);
  });

  it('test_adaptive_grad_clip_with_axis, the parts gradpipe expresses today', () => {
    // Linear layer, default axis: ones(5, 6) · 3 with unit params, clipping 0.5 → every column to 0.5·√5.
    const linear = runOnce(
      agc({ clipping: 0.5, unitAxis: 'last' }),
      { w: new Float32Array(30).fill(3) },
      {
        params: { w: new Float32Array(30).fill(1) },
        shapes: { w: [5, 6] },
      },
    ).grads.w!;
    unitNorms64(linear, 6, (i) => i % 6).forEach((n) => expect(n).toBeLessThanOrEqual(0.5 * Math.sqrt(5) + 1e-6));

    // Conv3D with axis=(0, 1, 2): one unit per (in, out) pair — the last axis of the kernel seen as [2·2·2, 3·4],
    // which is the same memory. (With the kernel's own shape: agc's `axes`, the next test.)
    const conv = (value: number, clipping: number) =>
      runOnce(
        agc({ clipping, unitAxis: 'last' }),
        { k: new Float32Array(96).fill(value) },
        {
          params: { k: new Float32Array(96).fill(1) },
          shapes: { k: [8, 12] },
        },
      ).grads.k!;
    const clipped = conv(2, 0.5);
    const paramUnit = Math.sqrt(8);
    unitNorms64(clipped, 12, (i) => i % 12).forEach((n) => expect(n).toBeLessThanOrEqual(0.5 * paramUnit + 1e-6));
    // "without clipping needed, gradients are unchanged" (optax: rtol 1e-6; gradpipe: bit-identical).
    expect(sameBits(conv(0.1, 2), new Float32Array(96).fill(0.1))).toBe(true);
  });

  it('test_adaptive_grad_clip_with_axis: Conv3D kernel (2, 2, 2, 3, 4) with axis (0, 1, 2), clipping 0.5', () => {
    const shape = [2, 2, 2, 3, 4];
    const params = { k: new Float32Array(96).fill(1) };
    const out = runOnce(agc({ clipping: 0.5, axes: [0, 1, 2] }), { k: new Float32Array(96).fill(2) }, { params, shapes: { k: shape } })
      .grads.k!;
    // unitwise_norm(clipped, axis=(0, 1, 2)): one unit per (in, out) pair = flat index mod 12
    const perPair = (x: Float32Array) => unitNorms64(x, 12, (i) => i % 12);
    const [g, p] = [perPair(out), perPair(params.k)];
    g.forEach((n, j) => {
      expect(n).toBeLessThanOrEqual(0.5 * p[j]! + 1e-6);
      expect(n).toBeLessThanOrEqual(0.5 * p[j]!); // gradpipe: exactly
    });
    // Same units, same result as the kernel seen as [8, 12] with unitAxis 'last'.
    const flat = runOnce(agc({ clipping: 0.5, unitAxis: 'last' }), { k: new Float32Array(96).fill(2) }, { params, shapes: { k: [8, 12] } })
      .grads.k!;
    expect(sameBits(out, flat)).toBe(true);
    // "without clipping needed, gradients are unchanged" (clipping 2.0, gradient 0.1): bit-identical
    const small = runOnce(agc({ clipping: 2, axes: [0, 1, 2] }), { k: new Float32Array(96).fill(0.1) }, { params, shapes: { k: shape } })
      .grads.k!;
    expect(sameBits(small, new Float32Array(96).fill(0.1))).toBe(true);
  });

  it('unitwise_norm defaults that the unit axis alone cannot express: rank 3 reduces over axis 0 only (axes: [0])', () => {
    // optax: x.ndim in (2, 3) → sum over axis 0 — for a multi-head kernel [in, heads, dim] each (head, dim) pair
    // is a unit. gradpipe's unitAxis 'last' makes the last axis the unit (reducing over axes 0 and 1), so optax's
    // rank-3 default needs axes: [0].
    const x = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i + 1);
    const params = { w: new Float32Array(24).fill(1) };
    const out = runOnce(agc({ clipping: 0.1, axes: [0] }), { w: Float32Array.from(x) }, { params, shapes: { w: [2, 3, 4] } }).grads.w!;
    const perPair = (t: Float32Array) => unitNorms64(t, 12, (i) => i % 12);
    const limits = perPair(params.w).map((n) => 0.1 * n);
    perPair(out).forEach((n, j) => expect(n).toBeLessThanOrEqual(limits[j]!));
    expectAllClose(out, optaxAgc(x, params.w, [2, 3, 4], [0], 0.1), TOLERANCE.optax);
    // Negative axes count from the end, as in numpy: axis -3 of a rank-3 tensor is axis 0.
    const negative = runOnce(agc({ clipping: 0.1, axes: [-3] }), { w: Float32Array.from(x) }, { params, shapes: { w: [2, 3, 4] } }).grads
      .w!;
    expect(sameBits(negative, out)).toBe(true);
  });

  it('adaptive_grad_clip(axis) for any shape and axes whose kept axes are a leading or trailing block = optax’s unitwise clip (property)', () => {
    fc.assert(
      fc.property(agcCase, ({ shape, axes, grad, param, clipping }) => {
        const out = runOnce(agc({ clipping, axes }), { w: Float32Array.from(grad) }, { params: { w: param }, shapes: { w: shape } }).grads
          .w!;
        const expected = optaxAgc(grad, param, shape, axes, clipping);
        expectAllClose(out, expected, { rtol: 1e-6, atol: 1e-30 });
        // gradpipe's own promise on top: every unit is within clipping·max(‖p‖, eps) exactly, and a unit optax leaves
        // alone (g_norm < max_norm) is bit-identical.
        const { unitOf, units } = unitsOf(shape, axes);
        const [gn, pn, on] = [unitNorms64(grad, units, unitOf), unitNorms64(param, units, unitOf), unitNorms64(out, units, unitOf)];
        on.forEach((n, u) => expect(n).toBeLessThanOrEqual(clipping * Math.max(pn[u]!, 1e-3)));
        grad.forEach((v, i) => {
          const u = unitOf(i);
          if (gn[u]! < clipping * Math.max(pn[u]!, 1e-3)) expect(Object.is(out[i], v)).toBe(true);
        });
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('agc axes: kept axes in the middle, a missing shape, an axis out of range, or unitAxis as well are refused', () => {
    const params = { w: new Float32Array(24).fill(1) };
    const grads = () => ({ w: Float32Array.from({ length: 24 }, (_, i) => i) });
    const refused = (axes: number[], shapes: Record<string, number[]> | undefined, message: RegExp) => {
      const g = grads();
      expect(() => runOnce([clipByValue(5), agc({ clipping: 0.01, axes })], g, { params, ...(shapes ? { shapes } : {}) })).toThrow(message);
      expect(sameBits(g.w, grads().w)).toBe(true); // refused before clipByValue changed anything
    };
    // [2, 3, 4] reducing over axes 0 and 2 keeps axis 1 alone: neither a leading nor a trailing block.
    refused(
      [0, 2],
      { w: [2, 3, 4] },
      /^agc: axes \[0, 2\] of "w" \(shape \[2, 3, 4\]\) leave axes 1 as the units, which are not a leading or trailing block/,
    );
    refused([0, 1], undefined, /^agc: axes need the shape of "w"/);
    refused([3], { w: [2, 3, 4] }, /^agc: axes \[3\] are out of range for "w" of shape \[2, 3, 4\]/);
    refused([-4], { w: [2, 3, 4] }, /^agc: axes \[-4\] are out of range/);
    expect(() => agc({ axes: [0], unitAxis: 'last' })).toThrow(/^agc: give axes or unitAxis, not both/);
    for (const axes of [[], [0, 0], [1.5], ['0'], 0])
      expect(() => agc({ axes: axes as number[] })).toThrow(/^agc: axes must be a non-empty array of distinct integer axes/);
    expect(agc({ axes: [0, 1, 2] }).config).toMatchObject({ axes: [0, 1, 2] });
  });

  it('test_unitwise_norm_with_axis: the unit layouts give optax’s unit-wise norms of arange(96).reshape(2, 2, 2, 3, 4)', () => {
    const x = Float32Array.from({ length: 96 }, (_, i) => i);
    const norms = (axis: 'first' | 'last', shape: number[]) => Array.from(typedArrayOps.unitNorms(x, unitLayout(shape, axis)), Number);
    // Default for rank 5 == axis (0, 1, 2, 3): per index of the last axis.
    expectAllClose(
      norms('last', [2, 2, 2, 3, 4]),
      unitNorms64(x, 4, (i) => i % 4),
      TOLERANCE.optax,
    );
    // axis (0, 1, 2): per (in, out) pair, the last axis of [8, 12].
    expectAllClose(
      norms('last', [8, 12]),
      unitNorms64(x, 12, (i) => i % 12),
      TOLERANCE.optax,
    );
    // axis (3, 4): per spatial position, contiguous blocks of 12: 'first' on [8, 12].
    expectAllClose(
      norms('first', [8, 12]),
      unitNorms64(x, 8, (i) => Math.floor(i / 12)),
      TOLERANCE.optax,
    );
    // axis -1: per everything but the last axis, contiguous blocks of 4: 'first' on [24, 4].
    expectAllClose(
      norms('first', [24, 4]),
      unitNorms64(x, 24, (i) => Math.floor(i / 4)),
      TOLERANCE.optax,
    );
    // optax raises for rank 6 without an axis; gradpipe's rule (a unit per index of the unit axis) covers every
    // rank, so a [2, 2, 2, 2, 2, 2] kernel simply has 2 units.
    expect(unitLayout([2, 2, 2, 2, 2, 2], 'last').units).toBe(2);
  });
});

/** The flat index → unit map of `shape` when the norm reduces over `axes` (optax's `axis`): units are the other axes. */
function unitsOf(shape: readonly number[], axes: readonly number[]): { units: number; unitOf: (i: number) => number } {
  const rank = shape.length;
  const reduced = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const kept = shape.map((_, d) => d).filter((d) => !reduced.has(d));
  const units = kept.reduce((n, d) => n * shape[d]!, 1);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const unitOf = (i: number) => kept.reduce((u, d) => u * shape[d]! + (Math.floor(i / strides[d]!) % shape[d]!), 0);
  return { units, unitOf };
}

/**
 * optax's adaptive_grad_clip on one tensor, transliterated (optax/transforms/_clipping.py at 2edbcbe2):
 *   g_norm = unitwise_norm(g, axis); p_norm = unitwise_norm(p, axis); max_norm = clipping · max(p_norm, eps)
 *   unitwise_clip: where(g_norm < max_norm, g, g · (max_norm / max(g_norm, 1e-6)))
 * in float64, rounded to float32 at the end (optax computes in float32; the tolerance covers the difference).
 */
function optaxAgc(
  grad: Float32Array,
  param: Float32Array,
  shape: readonly number[],
  axes: readonly number[],
  clipping: number,
  eps = 1e-3,
): Float32Array {
  const { units, unitOf } = unitsOf(shape, axes);
  const gNorm = unitNorms64(grad, units, unitOf);
  const pNorm = unitNorms64(param, units, unitOf);
  return grad.map((g, i) => {
    const u = unitOf(i);
    const maxNorm = clipping * Math.max(pNorm[u]!, eps);
    return gNorm[u]! < maxNorm ? g : g * (maxNorm / Math.max(gNorm[u]!, 1e-6));
  });
}

/** A shape of rank 2–5 and reduction axes that leave a leading or trailing block of kept axes (or none). */
const agcCase = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 5 }).chain((shape) => {
  const rank = shape.length;
  const splits = fc.integer({ min: 0, max: rank - 1 }).chain((k) =>
    fc.constantFrom(
      Array.from({ length: rank - k }, (_, i) => k + i), // keep a leading block of k axes (none when k = 0)
      Array.from({ length: rank - k }, (_, i) => i), // keep a trailing block of k axes
    ),
  );
  const size = shape.reduce((a, b) => a * b, 1);
  const value = fc.float({ min: -100, max: 100, noNaN: true });
  return fc.record({
    shape: fc.constant(shape),
    axes: fc.tuple(splits, fc.boolean()).map(([axes, negative]) => (negative ? axes.map((a) => a - rank) : axes)),
    grad: fc.array(value, { minLength: size, maxLength: size }).map((a) => Float32Array.from(a)),
    param: fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: size, maxLength: size }).map((a) => Float32Array.from(a)),
    clipping: fc.double({ min: 1e-3, max: 2, noNaN: true }),
  });
});

describe('optax per-example clipping, with gradpipe clipping each example', () => {
  /** Clips each example (row b of every layer) on its own, like optax's vmap, and sums the clipped examples. */
  function perExample(layers: Float32Array[], widths: number[], clip: (example: Record<string, Float32Array>) => boolean) {
    const batch = layers[0]!.length / widths[0]!;
    const sums = layers.map((_, l) => new Float64Array(widths[l]!));
    let clipped = 0;
    for (let b = 0; b < batch; b++) {
      const example = Object.fromEntries(layers.map((t, l) => [`l${l}`, t.slice(b * widths[l]!, (b + 1) * widths[l]!)]));
      if (clip(example)) clipped++;
      layers.forEach((_, l) => example[`l${l}`]!.forEach((v, j) => (sums[l]![j]! += v)));
    }
    return { sums, clipped };
  }

  it('test_per_example_global_norm_clip: 4 examples of 2 layers, l2_norm_clip 1 → optax’s answer, 2 clipped', () => {
    const layers = [f32(0, -0.5, 3, 4, 5, 6, 0, 0), f32(0, 5, -3, 0)];
    const { sums, clipped } = perExample(layers, [2, 1], (ex) => runOnce(clipByGlobalNorm({ maxNorm: 1 }), ex).stats.clipped);
    const answer = [
      [0 + 3 / Math.sqrt(50) + 5 / Math.sqrt(70), -0.5 + 4 / Math.sqrt(50) + 6 / Math.sqrt(70)],
      [0 + 5 / Math.sqrt(50) - 3 / Math.sqrt(70)],
    ];
    sums.forEach((s, l) => expectAllClose(s, answer[l]!, { rtol: 1e-7, atol: 1e-6 }));
    expect(clipped).toBe(2);
  });

  it('per_example_global_norm_clip doctest: clip 1.25 of [[0,0,0],[0,3,4],[4,0,3],[3,4,0]] sums to [1.75, 1.75, 1.75]', () => {
    const { sums, clipped } = perExample(
      [f32(0, 0, 0, 0, 3, 4, 4, 0, 3, 3, 4, 0)],
      [3],
      (ex) => runOnce(clipByGlobalNorm({ maxNorm: 1.25 }), ex).stats.clipped,
    );
    // optax prints float32 1.75; gradpipe's clipped rows sit ≤ 1.2e-7 relatively below the bound (its exact-bound
    // margin), so the sum is 1.75 within optax's own rtol.
    expectAllClose(sums[0]!, [1.75, 1.75, 1.75], TOLERANCE.optax);
    sums[0]!.forEach((v) => expect(v).toBeLessThanOrEqual(1.75));
    expect(clipped).toBe(3);
  });

  it('per_example_global_norm_clip doctest with l2_norm_clip inf: [[0,0,0],[0,3,4],[4,0,3],[3,4,0]] sums to [7, 7, 7], none clipped', () => {
    for (const maxNorm of [Infinity, 'inf'] as const) {
      const { sums, clipped } = perExample(
        [f32(0, 0, 0, 0, 3, 4, 4, 0, 3, 3, 4, 0)],
        [3],
        (ex) => runOnce(clipByGlobalNorm({ maxNorm }), ex).stats.clipped,
      );
      expect(Array.from(sums[0]!)).toEqual([7, 7, 7]); // nothing scaled: exact
      expect(clipped).toBe(0);
    }
  });

  it('per_example_global_norm_clip doctest with l2_norm_clip 0: gradpipe refuses a bound of 0 (optax zeroes everything)', () => {
    // Deliberately different: maxNorm must be positive; zeroing every gradient is not clipping.
    expect(() => clipByGlobalNorm({ maxNorm: 0 })).toThrow(GradpipeError);
  });

  it('test_per_example_layer_norm_clip, uniform variant: per-layer clip √2/√2; sums 1.5 and 4/√18, 3 and 4 clipped', () => {
    const layer0 = f32(0.5, 1.5, -2.0, 3.0);
    const layer1 = new Float32Array(4 * 18).fill(1);
    const perLayerClip = Math.sqrt(2) * (1 / 2) ** 0.5;
    const results = [layer0, layer1].map((t) => {
      const w = t.length / 4;
      return perExample([t], [w], (ex) => runOnce(clipByNorm({ maxNorm: perLayerClip }), ex).stats.clipped);
    });
    // Deliberately different at the 7th place: optax's assertAlmostEqual(sum, 1.5) (places=7, |diff| < 5e-8) is
    // tighter than gradpipe's exact-bound margin: each of the three clipped examples lands up to 2⁻²³ relatively
    // below the bound 1 (its float32 safety factor), and the sum comes out about 1e-7 below 1.5. gradpipe's
    // promise, checked instead: the sum is 1.5 to 6 places and no clipped example exceeds the bound.
    expectAlmostEqual(results[0]!.sums[0]![0]!, 1.5, 6);
    expect(results[0]!.sums[0]![0]!).toBeLessThanOrEqual(1.5);
    results[1]!.sums[0]!.forEach((v) => expectAlmostEqual(v, 4 / Math.sqrt(18), 4));
    expect(results.map((r) => r.clipped)).toEqual([3, 4]);
  });

  it('test_per_example_layer_norm_clip, scaled variant: per-layer clips 1 and √18; sums 1.5 and 4, 3 and 0 clipped', () => {
    const layer0 = f32(0.5, 1.5, -2.0, 3.0);
    const layer1 = new Float32Array(4 * 18).fill(1);
    const total = 1 + 18;
    const results = [layer0, layer1].map((t) => {
      const w = t.length / 4;
      const maxNorm = Math.sqrt(19) * (w / total) ** 0.5;
      return perExample([t], [w], (ex) => runOnce(clipByNorm({ maxNorm }), ex).stats.clipped);
    });
    expectAlmostEqual(results[0]!.sums[0]![0]!, 1.5, 6); // see the uniform variant for the 7th place
    // "the grad norms for grads_flat[1] are all equal to the per-layer clip norm, so none of these grads are
    // clipped": gradpipe leaves them bit-identical, so the sum is exactly 4.
    results[1]!.sums[0]!.forEach((v) => expect(v).toBe(4));
    expect(results.map((r) => r.clipped)).toEqual([3, 0]);
  });
});

describe('optax apply_if_finite (optax/transforms/_conditionality_test.py::test_apply_if_finite) as nanGuard', () => {
  it('rejects non-finite updates and counts them; after max_consecutive_errors gradpipe throws where optax gives up', () => {
    // optax: sgd(1.0) on f(p, x) = p·x from p = 0, so the gradient is x; apply_if_finite(…, 2).
    const pipe = new GradientPipeline([nanGuard({ policy: 'skip', maxConsecutive: 2 })]);
    let param = 0;
    const stepWith = (x: number) => {
      const { grads, skipped } = pipe.step({ p: f32(x) });
      if (!skipped) param -= grads.p![0]!;
      return skipped;
    };
    const counters = () => pipe.state[0] as { totalNonFinite: number; consecutiveNonFinite: number };

    expect(stepWith(1)).toBe(false);
    expect(param).toBe(-1);
    for (let step = 0; step < 2; step++) {
      expect(stepWith(NaN)).toBe(true); // rejected
      expect(param).toBe(-1);
      expect(counters().consecutiveNonFinite).toBe(step + 1); // optax's notfinite_count
    }
    expect(stepWith(1)).toBe(false);
    expect(param).toBe(-2);
    for (let step = 0; step < 2; step++) {
      expect(stepWith(NaN)).toBe(true);
      expect(param).toBe(-2);
      expect(counters().consecutiveNonFinite).toBe(step + 1);
    }
    expect(counters().totalNonFinite).toBe(4);
    // optax accepts the third NaN update in a row ("gives up") and the parameter becomes NaN, total_notfinite 5.
    // Deliberately different: gradpipe never hands NaN to the weights; it throws, naming the limit, and the
    // parameter and the counters stay as they were.
    expect(() => stepWith(NaN)).toThrow(GradpipeError);
    expect(param).toBe(-2);
    expect(counters().totalNonFinite).toBe(4);
  });

  it('±Infinity counts as non-finite too (optax: jnp.isfinite), and nanGuard’s zero policy zeroes it', () => {
    for (const bad of [Infinity, -Infinity, NaN]) {
      expect(new GradientPipeline([nanGuard()]).step({ p: f32(1, bad) }).skipped).toBe(true);
      const zeroed = new GradientPipeline([nanGuard({ policy: 'zero' })]).step({ p: f32(1, bad) });
      expect(zeroed.skipped).toBe(false);
      expect(Array.from(zeroed.grads.p!)).toEqual([1, 0]);
    }
  });
});
