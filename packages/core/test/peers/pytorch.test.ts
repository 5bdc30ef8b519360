/**
 * PyTorch's gradient-clipping tests, ported to gradpipe.
 *
 * Source: pytorch/pytorch `test/test_nn.py` at 74f2fa66, class `TestNNDeviceType` (the clip tests moved there
 * from `TestNN`): `test_clip_grad_norm` (parametrized over norm_type 0.5, 1.5, 2, 4, 'inf'),
 * `test_clip_grad_norm_error_if_nonfinite`, `test_clip_grad_norm_multi_device` and `test_clip_grad_value`.
 * PyTorch's clipping itself is `torch/nn/utils/clip_grad.py`: `clip_coef = max_norm / (total_norm + 1e-6)`,
 * clamped to 1, multiplied into every gradient.
 *
 * Tolerances are PyTorch's `assertEqual` defaults for float32 (rtol 1.3e-6, atol 1e-5). The model is
 * `nn.Linear(10, 10)`: a weight gradient of 100 values and a bias gradient of 10.
 *
 * Not ported: "should accept a single Tensor as input" (gradpipe takes named gradients only) and the
 * `foreach` parametrization (an implementation switch).
 *
 * Issue 13, item 5 (peer parity, new features): norm_type 0.5 and 0.1 (quasi-norms, `normType` in (0, 1)),
 * `max_norm = inf` (measure, never clip: `maxNorm: Infinity`) and `error_if_nonfinite` (`errorIfNonfinite`) are
 * ported here now that gradpipe has them; all three were refused before.
 */

import {
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  clipFactor,
  combineNorms,
  GradientPipeline,
  GradpipeError,
  inProcessAllReduce,
  normOf,
  scaleAll,
  typedArrayOps,
} from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finiteGrads, maxNorm as maxNormArb } from '../support/arbitraries.js';
import { arange, copy, expectAllClose, f32, type Grads, norm64, runOnce, sameBits, TOLERANCE } from './support.js';

const MAX_NORM = 2;
/** test_clip_grad_norm's gradients: weight `arange(1., 101).view(10, 10)`, bias `ones(10) / 1000`. */
const linearGrads = (): Grads => ({ weight: arange(1, 101), bias: new Float32Array(10).fill(1 / 1000) });

/** The standard deviation of the ratios out/in over all tensors (PyTorch's compare_scaling). */
function scaleStd(out: Record<string, Float32Array>, input: Record<string, Float32Array>): { std: number; first: number } {
  const ratios = Object.keys(input).flatMap((k) => Array.from(out[k]!, (v, i) => v / input[k]![i]!));
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  // torch's Tensor.std is the unbiased (n − 1) estimate.
  const std = Math.sqrt(ratios.reduce((a, r) => a + (r - mean) ** 2, 0) / (ratios.length - 1));
  return { std, first: ratios[0]! };
}

describe.each([0.5, 1.5, 2, 4, Infinity])('test_clip_grad_norm, norm_type %s', (normType) => {
  it('the returned norm is the norm before; the norm after is max_norm (and ≤ it); one common scale', () => {
    const input = linearGrads();
    const before = norm64(Object.values(input), normType);
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: MAX_NORM, normType }), copy(input));
    const after = norm64(Object.values(grads), normType);
    // self.assertEqual(norm, norm_before): gradpipe reports the float64 norm in the transform's normType.
    expectAllClose(stats.transforms[0]!.figures.norm!, before, TOLERANCE.torchFloat32);
    expectAllClose(after, MAX_NORM, TOLERANCE.torchFloat32); // self.assertEqual(norm_after, max_norm)
    expect(after).toBeLessThanOrEqual(before);
    // Deliberately stricter: PyTorch's factor max_norm / (norm + 1e-6) in float32 can leave norm_after a few ulps
    // above max_norm; gradpipe's float64 factor with a float32 safety margin keeps it ≤ max_norm exactly.
    expect(after).toBeLessThanOrEqual(MAX_NORM);
    expect(stats.clipped).toBe(true);
    // compare_scaling: scale.std() == 0 within assertEqual's tolerance.
    expect(scaleStd(grads, input).std).toBeLessThanOrEqual(TOLERANCE.torchFloat32.atol);
  });

  it('decomposed APIs: get_total_norm + clip_grads_with_norm_ are normOf/combineNorms + clipFactor/scaleAll', () => {
    const input = linearGrads();
    const viaTransform = runOnce(clipByGlobalNorm({ maxNorm: MAX_NORM, normType }), copy(input));
    const grads = copy(input);
    const total = combineNorms(
      typedArrayOps,
      Object.values(grads).map((g) => normOf(g, normType)),
      normType,
    );
    expectAllClose(total, norm64(Object.values(input), normType), TOLERANCE.torchFloat32); // total_norm == norm_before
    const elements = Object.values(grads).reduce((n, g) => n + g.length, 0);
    const { factor } = clipFactor(typedArrayOps, total, MAX_NORM, { elements, p: normType });
    const out = scaleAll(typedArrayOps, grads, factor) as Grads;
    const after = norm64(Object.values(out), normType);
    expectAllClose(after, MAX_NORM, TOLERANCE.torchFloat32);
    expect(after).toBeLessThanOrEqual(MAX_NORM);
    expect(scaleStd(out, input).std).toBeLessThanOrEqual(TOLERANCE.torchFloat32.atol);
    // The building blocks give exactly what the transform gives.
    for (const k of Object.keys(input)) expect(sameBits(out[k]!, viaTransform.grads[k]!)).toBe(true);
  });

  it('small gradients (rand(10, 10) / 10000, ones(10) / 500) are left unchanged: scale exactly 1, same norm', () => {
    // PyTorch draws torch.rand once; here fast-check draws the weight gradient (seeded) many times.
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: Math.fround(1e-4), noNaN: true }), { minLength: 100, maxLength: 100 }), (w) => {
        const input: Grads = { weight: Float32Array.from(w), bias: new Float32Array(10).fill(1 / 500) };
        const before = norm64(Object.values(input), normType);
        const grads = copy(input);
        const { stats } = runOnce(clipByGlobalNorm({ maxNorm: MAX_NORM, normType }), grads);
        expect(norm64(Object.values(grads), normType)).toBe(before); // norm_before == norm_after
        expect(before).toBeLessThanOrEqual(MAX_NORM);
        expect(stats.clipped).toBe(false);
        // scale == 1: gradpipe leaves the arrays bit-identical (PyTorch multiplies by a clamped 1.0).
        for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('quasi-norms, normType in (0, 1) (issue 13 item 5): PyTorch clips with them; gradpipe keeps the bound exactly', () => {
  // ‖c·x‖ₚ = c·‖x‖ₚ for c ≥ 0 also when p < 1, so one common factor bounds the quasi-norm. The promise checked: the
  // stored output's (Σ|x|^p)^(1/p), computed in float64 from the stored float32 values, is ≤ maxNorm exactly, for
  // any finite gradients (subnormals, ±0, 3.4e38 included) and any bound; gradients within it stay bit-identical.
  const quasiP = fc.oneof(fc.constantFrom(0.1, 0.5, 0.9), fc.double({ min: 0.1, max: 0.999, noNaN: true }));

  it.each(['clipByGlobalNorm', 'clipByNorm'] as const)('%s: the stored quasi-norm is ≤ maxNorm exactly (property)', (kind) => {
    fc.assert(
      fc.property(finiteGrads, quasiP, maxNormArb, (input, p, maxNorm) => {
        const grads = copy(input);
        const t = kind === 'clipByGlobalNorm' ? clipByGlobalNorm({ maxNorm, normType: p }) : clipByNorm({ maxNorm, normType: p });
        expect(t.config.normType).toBe(p);
        const { stats } = runOnce(t, grads);
        const groups = kind === 'clipByGlobalNorm' ? [Object.keys(input)] : Object.keys(input).map((k) => [k]);
        for (const names of groups) {
          const before = norm64(
            names.map((k) => input[k]!),
            p,
          );
          const after = norm64(
            names.map((k) => grads[k]!),
            p,
          );
          expect(after).toBeLessThanOrEqual(maxNorm);
          for (const k of names) {
            expect(grads[k]!.every(Number.isFinite)).toBe(true);
            if (before <= maxNorm) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
          }
        }
        if (kind === 'clipByGlobalNorm')
          expectAllClose(stats.transforms[0]!.figures.norm!, norm64(Object.values(input), p), { rtol: 1e-9, atol: 0 });
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('normType 0.5 on the peer gradients: one common factor, ratio out/in the same for every value', () => {
    const input = linearGrads();
    const { grads } = runOnce(clipByGlobalNorm({ maxNorm: MAX_NORM, normType: 0.5 }), copy(input));
    const ratios = Object.keys(input).flatMap((k) => Array.from(grads[k]!, (v, i) => v / input[k]![i]!));
    for (const r of ratios) expect(Math.abs(r - ratios[0]!)).toBeLessThanOrEqual(ratios[0]! * 2 ** -23);
    expect(norm64(Object.values(grads), 0.5)).toBeLessThanOrEqual(MAX_NORM);
  });
});

describe('test_clip_grad_norm, where gradpipe deliberately differs', () => {
  it('no scaling at norm == max_norm: PyTorch multiplies by max_norm / (max_norm + 1e-6); gradpipe changes nothing', () => {
    // The peer's weight gradient divided by 50 has max |g| = 100 / 50 = 2 = max_norm exactly (norm_type inf).
    const input: Grads = { weight: arange(1, 101).map((v) => v / 50), bias: new Float32Array(10).fill(1 / 1000) };
    expect(norm64(Object.values(input), Infinity)).toBe(MAX_NORM);
    const torchCoef = Math.min(MAX_NORM / (MAX_NORM + 1e-6), 1);
    expect(torchCoef).toBeLessThan(1); // PyTorch would shrink gradients that are within the bound
    const grads = copy(input);
    const { stats } = runOnce(clipByGlobalNorm({ maxNorm: MAX_NORM, normType: Infinity }), grads);
    expect(stats.clipped).toBe(false);
    for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
  });

  it('an empty set of gradients (PyTorch warns "`parameters` is an empty generator…"): gradpipe does nothing, silently', () => {
    const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: MAX_NORM }), {});
    expect(Object.keys(grads)).toEqual([]);
    expect(stats.normBefore).toBe(0);
    expect(stats.clipped).toBe(false);
  });
});

describe('test_clip_grad_norm_error_if_nonfinite (float64 in PyTorch; float32 here)', () => {
  // The test's norms_pos (0.1 is a quasi-norm: normType in (0, 1), issue 13 item 5).
  const NORMS = [0.1, 1, 2, 3.5, Infinity];
  /** gen_parameters: a 10-element param whose gradient is `scalar` (everywhere or at index 1), maybe prefixed by a
   * one-element param with gradient 1. */
  function genGradients(scalar: number, gradOnlyOneElem: boolean, prefixFiniteGradParam: boolean): Record<string, Float32Array> {
    const param = gradOnlyOneElem ? Float32Array.from({ length: 10 }, (_, i) => (i === 1 ? scalar : 0)) : new Float32Array(10).fill(scalar);
    return prefixFiniteGradParam ? { prefix: f32(1), param } : { param };
  }
  const flags = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const;

  it.each([Infinity, -Infinity, NaN])(
    'a %s gradient gives a non-finite norm for every norm type, and the gradients stay as they were',
    (scalar) => {
      for (const [one, prefix] of flags) {
        for (const normType of NORMS) {
          const input = genGradients(scalar, one, prefix);
          const grads = copy(input);
          const { stats } = runOnce(clipByGlobalNorm({ maxNorm: 1, normType }), grads);
          expect(Number.isFinite(stats.transforms[0]!.figures.norm!)).toBe(false); // is_norm_nonfinite
          // PyTorch with error_if_nonfinite=True raises and leaves the gradients alone ("Grad should not change if
          // error is thrown"); with False it multiplies every gradient by max_norm / (norm + 1e-6): 0 for an infinite
          // norm (the finite entries become 0, the infinite ones NaN), NaN for a NaN norm. Deliberately different:
          // gradpipe never scales by a non-finite norm (factor exactly 1), so the gradients are bit-identical and
          // nanGuard decides what to do with the step. The throwing variant is errorIfNonfinite, below.
          expect(stats.clipped).toBe(false);
          for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
        }
      }
    },
  );

  it.each([2e22, -2e22])('a %s gradient never gives a non-finite norm (overflow-safe norms in float32 too)', (scalar) => {
    // PyTorch's case is float64. In float32 its square, 4e44, is beyond the float32 range (3.4e38): a float32
    // sum of squares would overflow. gradpipe's norms are overflow-free for any finite float32 input.
    expect(Math.fround(scalar * scalar)).toBe(Infinity);
    for (const [one, prefix] of flags) {
      for (const normType of NORMS) {
        const input = genGradients(scalar, one, prefix);
        const { grads, stats } = runOnce(clipByGlobalNorm({ maxNorm: 1, normType }), copy(input));
        const norm = stats.transforms[0]!.figures.norm!;
        expect(Number.isFinite(norm)).toBe(true);
        expectAllClose(norm, norm64(Object.values(input), normType), { rtol: 1e-12, atol: 0 });
        expect(norm64(Object.values(grads), normType)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('norm types 0 and negative are not norms: gradpipe refuses them (PyTorch computes them)', () => {
    // Deliberately different: norms_neg (-0.1, -1, -2, -3.5) and 0 are refused with a GradpipeError (0.1, in
    // (0, 1), is a quasi-norm and accepted). The 2e200 case has no float32 counterpart (2e200 is Infinity as float32).
    for (const normType of [0, -0.1, -1, -2, -3.5]) {
      expect(() => clipByGlobalNorm({ maxNorm: 1, normType })).toThrow(GradpipeError);
      expect(() => clipByNorm({ maxNorm: 1, normType })).toThrow(GradpipeError);
    }
  });

  it.each([Infinity, -Infinity, NaN])(
    'errorIfNonfinite: a %s gradient throws a GradpipeError and leaves every gradient as it was',
    (scalar) => {
      for (const [one, prefix] of flags) {
        for (const normType of NORMS) {
          const input = genGradients(scalar, one, prefix);
          const grads = copy(input);
          // PyTorch: RuntimeError "The total norm of order {norm_type} for gradients from `parameters` is non-finite"
          expect(() => runOnce(clipByGlobalNorm({ maxNorm: 1, normType, errorIfNonfinite: true }), grads)).toThrow(GradpipeError);
          expect(() => runOnce(clipByGlobalNorm({ maxNorm: 1, normType, errorIfNonfinite: true }), copy(input))).toThrow(
            /^clipByGlobalNorm: the global .*-norm of the gradients is not finite/,
          );
          // "Grad should not change if error is thrown"
          for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
          // clipByNorm: the tensor holding the non-finite value makes it throw too, before any tensor is clipped
          // (the finite prefix tensor, norm 1, would be clipped by a bound of 0.5).
          const perTensor = copy(input);
          expect(() => runOnce(clipByNorm({ maxNorm: 0.5, normType, errorIfNonfinite: true }), perTensor)).toThrow(
            /^clipByNorm: the .*-norm of a gradient is not finite at step 0 in "param"/,
          );
          for (const k of Object.keys(input)) expect(sameBits(perTensor[k]!, input[k]!)).toBe(true);
        }
      }
    },
  );

  it.each([2e22, -2e22])(
    'errorIfNonfinite: a %s gradient never throws (its norm is finite, though its square overflows float32)',
    (scalar) => {
      for (const [one, prefix] of flags) {
        for (const normType of NORMS) {
          for (const errorIfNonfinite of [false, true]) {
            const { grads } = runOnce(clipByGlobalNorm({ maxNorm: 1, normType, errorIfNonfinite }), genGradients(scalar, one, prefix));
            expect(norm64(Object.values(grads), normType)).toBeLessThanOrEqual(1);
            const perTensor = runOnce(clipByNorm({ maxNorm: 1, normType, errorIfNonfinite }), genGradients(scalar, one, prefix)).grads;
            for (const g of Object.values(perTensor)) expect(norm64([g], normType)).toBeLessThanOrEqual(1);
          }
        }
      }
    },
  );

  it('errorIfNonfinite: false (the default) behaves as before: a NaN norm scales by 1, nothing thrown', () => {
    const input = genGradients(NaN, false, true);
    const grads = copy(input);
    expect(runOnce(clipByGlobalNorm({ maxNorm: 1, errorIfNonfinite: false }), grads).stats.clipped).toBe(false);
    for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
    expect(clipByGlobalNorm({ maxNorm: 1 }).config).not.toHaveProperty('errorIfNonfinite');
    expect(clipByGlobalNorm({ maxNorm: 1, errorIfNonfinite: true }).config).toMatchObject({ errorIfNonfinite: true });
  });
});

describe.each([1, 1.5, 2, 4, Infinity])('clip_grad_norm_ with max_norm = inf, norm_type %s (measure only)', (normType) => {
  // From test_clip_grad_norm's `self.assertEqual(norm, norm_before)` with PyTorch's own formula: max_norm / (norm +
  // 1e-6) is inf, clamped to 1, so the gradients keep their values and the call returns the total norm.
  it.each(['clipByGlobalNorm', 'clipByNorm'] as const)('%s: reports the norm before and leaves the gradients bit-identical', (kind) => {
    for (const maxNorm of [Infinity, 'inf'] as const) {
      const input = linearGrads();
      const grads = copy(input);
      const t = kind === 'clipByGlobalNorm' ? clipByGlobalNorm({ maxNorm, normType }) : clipByNorm({ maxNorm, normType });
      const { stats } = runOnce(t, grads);
      if (kind === 'clipByGlobalNorm')
        expectAllClose(stats.transforms[0]!.figures.norm!, norm64(Object.values(input), normType), TOLERANCE.torchFloat32);
      expectAllClose(stats.normBefore, norm64(Object.values(input), 2), { rtol: 2 * 2 ** -24, atol: 0 }); // StepStats: within 2·2⁻²⁴
      expect(stats.normAfter).toBe(stats.normBefore);
      expect(stats.clipped).toBe(false);
      for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
    }
  });
});

it("maxNorm: Infinity is saved as 'inf' and survives toJSON / fromJSON (JSON has no Infinity)", () => {
  const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: Infinity }), clipByNorm({ maxNorm: 'inf', normType: 0.5 })]);
  const saved = JSON.parse(JSON.stringify(pipe));
  expect(saved.transforms.map((t: { config: { maxNorm: unknown } }) => t.config.maxNorm)).toEqual(['inf', 'inf']);
  const copyOf = GradientPipeline.fromJSON(saved);
  expect(copyOf.toJSON()).toEqual(pipe.toJSON());
  const input = linearGrads();
  const grads = copy(input);
  const { stats } = copyOf.step(grads);
  expect(stats.clipped).toBe(false);
  expectAllClose(stats.transforms[0]!.figures.norm!, norm64(Object.values(input)), { rtol: 2 * 2 ** -24, atol: 0 });
  for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
});

describe('test_clip_grad_norm_multi_device', () => {
  it.each([2, Infinity])('norm_type %s: two layers on two shards clip exactly as on one device', async (normType) => {
    // TestModel: layer1 and layer2 = nn.Linear(10, 10), every gradient ones_like(p), max norm 0.5. PyTorch puts
    // the layers on two GPUs; gradpipe's counterpart is a sharded clipByGlobalNorm, one shard per device.
    const layer = (name: string) => ({ [`${name}.weight`]: new Float32Array(100).fill(1), [`${name}.bias`]: new Float32Array(10).fill(1) });
    const [reduceA, reduceB] = inProcessAllReduce(2);
    const shardA = new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.5, normType, reduce: reduceA! })]);
    const shardB = new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.5, normType, reduce: reduceB! })]);
    const [a, b] = await Promise.all([shardA.stepAsync(layer('layer1')), shardB.stepAsync(layer('layer2'))]);
    const ref = runOnce(clipByGlobalNorm({ maxNorm: 0.5, normType }), { ...layer('layer1'), ...layer('layer2') });
    // self.assertEqual(norm, expected)
    expect(a.stats.transforms[0]!.figures.norm).toBe(ref.stats.transforms[0]!.figures.norm);
    expect(b.stats.transforms[0]!.figures.norm).toBe(ref.stats.transforms[0]!.figures.norm);
    expectAllClose(ref.stats.transforms[0]!.figures.norm!, normType === 2 ? Math.sqrt(220) : 1, { rtol: 1e-12, atol: 0 });
    // p.grad == pe.grad: bit for bit.
    for (const [name, g] of Object.entries({ ...a.grads, ...b.grads })) expect(sameBits(g, ref.grads[name]!)).toBe(true);
  });
});

describe('test_clip_grad_value', () => {
  const CLIP = 2.5;
  /** grad_w = arange(-50., 50).view(10, 10).div_(5), grad_b = ones(10).mul_(2). */
  const gradW = () => arange(-50, 50).map((v) => v / 5);
  const gradB = () => new Float32Array(10).fill(2);

  it.each([
    ['[grad_w, grad_b]', true],
    ['[grad_w, None] (no bias gradient: the tensor is simply absent)', false],
  ])('%s: every element in [-2.5, 2.5], and exactly clamp(g, -2.5, 2.5)', (_label, withBias) => {
    const input: Record<string, Float32Array> = withBias ? { weight: gradW(), bias: gradB() } : { weight: gradW() };
    const { grads } = runOnce(clipByValue(CLIP), copy(input));
    for (const [k, g] of Object.entries(grads)) {
      expect(Math.max(...g)).toBeLessThanOrEqual(CLIP);
      expect(Math.min(...g)).toBeGreaterThanOrEqual(-CLIP);
      expect(Array.from(g)).toEqual(Array.from(input[k]!, (v) => Math.min(Math.max(v, -CLIP), CLIP)));
    }
  });
});
