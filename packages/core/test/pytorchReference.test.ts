/**
 * Example tests pinning gradpipe's numbers against PyTorch 1.13 (tests/fixtures/core/reference.json, written by
 * tests/fixtures/core/make_reference.py — Python is needed only to regenerate it).
 *
 * Where PyTorch is right, gradpipe agrees with it within float32 rounding and PyTorch's own 1e-6 epsilon; where
 * PyTorch fails (overflow, underflow, a clipped norm above maxNorm, changing gradients already within the bound),
 * the test asserts the failure recorded in the fixture and gradpipe's correct result side by side.
 */
import { readFileSync } from 'node:fs';
import { clipByGlobalNorm, clipByValue, GradientPipeline } from '@gradpipe/core';
import { float32Factor } from '@gradpipe/core/internal';
import { describe, expect, it } from 'vitest';
import { norm64 } from './support/arbitraries.js';

type Num = number | 'Infinity' | '-Infinity' | 'NaN';
interface NormCase {
  name: string;
  maxNorm: number;
  normType: number | 'inf';
  grads: Record<string, number[]>;
  float64Norm: Num;
  torch: { totalNorm: Num; grads: Record<string, Num[]>; outputFloat64Norm: Num };
  pytorchFailure?: string;
}
interface ValueCase {
  name: string;
  clipValue: number;
  grads: Record<string, number[]>;
  torch: { grads: Record<string, number[]> };
}
const fixture = JSON.parse(readFileSync(new URL('../../../tests/fixtures/core/reference.json', import.meta.url), 'utf8')) as {
  torch: string;
  clipGradNorm: NormCase[];
  clipGradValue: ValueCase[];
};

/** A fixture number: JSON has no Infinity or NaN, so the generator wrote them as strings. */
const num = (v: Num): number => (typeof v === 'number' ? v : Number(v));
const f32 = (r: Record<string, readonly Num[]>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v.map(num))]));
const pOf = (c: NormCase) => (c.normType === 'inf' ? Infinity : c.normType);
const byName = (name: string): NormCase => {
  const c = fixture.clipGradNorm.find((x) => x.name === name);
  if (!c) throw new Error(`reference.json has no case ${JSON.stringify(name)}: regenerate it with make_reference.py`);
  return c;
};

/** Runs gradpipe's clipByGlobalNorm on a fixture case. */
function gradpipe(c: NormCase) {
  const input = f32(c.grads);
  const { grads, stats } = new GradientPipeline([clipByGlobalNorm({ maxNorm: c.maxNorm, normType: c.normType })]).step(f32(c.grads));
  const figures = stats.transforms[0]!.figures;
  return { input, grads, stats, norm: figures.norm!, factor: figures.factor!, outNorm: norm64(Object.values(grads), pOf(c)) };
}

/** The float32 value `k` steps below the float32 `x > 0`. */
function float32StepsBelow(x: number, k: number): number {
  const bits = new Uint32Array(Float32Array.of(x).buffer);
  bits[0] = bits[0]! - k;
  return new Float32Array(bits.buffer)[0]!;
}

it('the fixture comes from PyTorch 1.13', () => {
  expect(fixture.torch).toMatch(/^1\.13/);
  expect(fixture.clipGradNorm.length).toBeGreaterThanOrEqual(15);
});

describe('clip_grad_norm_ where PyTorch is right: gradpipe agrees', () => {
  const agreeing = fixture.clipGradNorm.filter((c) => !c.pytorchFailure);

  it.each(agreeing.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const gp = gradpipe(c);
    const truth = num(c.float64Norm);
    const torchNorm = num(c.torch.totalNorm);
    // The norm: gradpipe's float64 one is the true norm; PyTorch's float32 one is within float32 accumulation of it.
    expect(Math.abs(gp.norm - truth)).toBeLessThanOrEqual(truth * 1e-12);
    expect(Math.abs(torchNorm - truth)).toBeLessThanOrEqual(truth * 1e-6);
    const torchOut = f32(c.torch.grads);
    if (truth <= c.maxNorm) {
      // Within the bound both leave the gradients exactly as they are.
      expect(gp.stats.clipped).toBe(false);
      for (const k of Object.keys(gp.input)) {
        expect(gp.grads[k]).toEqual(gp.input[k]);
        expect(torchOut[k]).toEqual(gp.input[k]);
      }
      return;
    }
    // Clipped: each value within PyTorch's epsilon (1e-6 / norm), the float32 rounding of its norm (≤ 1e-6) and of
    // the factor and products (2⁻²¹ covers both libraries' roundings) — relative to the value.
    expect(gp.stats.clipped).toBe(true);
    const tolerance = 1e-6 / truth + 1e-6 + 2 ** -21;
    for (const k of Object.keys(gp.input)) {
      gp.grads[k]!.forEach((v, i) => {
        const t = torchOut[k]![i]!;
        expect(Math.abs(v - t)).toBeLessThanOrEqual(Math.abs(t) * tolerance);
      });
    }
    // And gradpipe keeps the bound that PyTorch's epsilon only approximates.
    expect(gp.outNorm).toBeLessThanOrEqual(c.maxNorm);
    expect(gp.outNorm).toBeGreaterThanOrEqual(c.maxNorm * (1 - 1e-6));
  });

  // gradpipe's margin (2⁻²², for the float32 block sums of its fast norm) and its float32 factor, rounded down,
  // put it a step further below than PyTorch's epsilon does here; both are within 5e-7 of the exact 0.6 and 0.8.
  it('3-4-5: norm 5; gradpipe stores 0.6 and 0.8 lowered by three and four float32 steps, PyTorch by two and three', () => {
    const c = byName('3-4-5');
    const gp = gradpipe(c);
    expect(gp.norm).toBe(5);
    expect(num(c.torch.totalNorm)).toBe(5);
    expect(gp.grads.a![0]).toBe(float32StepsBelow(Math.fround(0.6), 3)); // 0.5999998450279236
    expect(gp.grads.b![0]).toBe(float32StepsBelow(Math.fround(0.8), 4)); // 0.7999997735023499
    expect(num(c.torch.grads.a![0]!)).toBe(float32StepsBelow(Math.fround(0.6), 2));
    expect(num(c.torch.grads.b![0]!)).toBe(float32StepsBelow(Math.fround(0.8), 3));
    expect(gp.stats.normBefore).toBe(5);
    // normAfter is normBefore × factor (the stored values' norm within 2⁻²²; measureNormAfter measures it)
    expect(gp.stats.normAfter).toBe(5 * gp.factor);
    expect(Math.abs(gp.stats.normAfter - norm64([gp.grads.a!, gp.grads.b!], 2))).toBeLessThanOrEqual(2 ** -22);
    expect(gp.stats.normAfter).toBeLessThan(1);
    expect(gp.stats.threshold).toBe(1);
  });
});

describe('clip_grad_norm_ where PyTorch fails: the failure as recorded, and gradpipe’s correct result', () => {
  /** gradpipe clipped to the bound: ≤ maxNorm, within 1e-6 of it, direction kept (one common positive factor). */
  function expectClippedToTheBound(gp: ReturnType<typeof gradpipe>, c: NormCase): void {
    expect(gp.outNorm).toBeLessThanOrEqual(c.maxNorm);
    expect(gp.outNorm).toBeGreaterThanOrEqual(c.maxNorm * (1 - 1e-6));
    expect(gp.factor).toBeGreaterThan(0);
    // every value scaled once by the float32 factor ≤ the reported one (the scale kernels' factor)
    for (const k of Object.keys(gp.input))
      expect(gp.grads[k]).toEqual(gp.input[k]!.map((x) => Math.fround(x * (float32Factor(gp.factor) ?? gp.factor))));
  }

  it.each(['1e20 gradients, L2', '1e20 gradients, L3', '3e38 and 1e-3 gradients, L2'])(
    '%s: PyTorch’s norm overflows to Infinity and it zeroes the gradients; gradpipe measures the norm and keeps the direction',
    (name) => {
      const c = byName(name);
      expect(c.torch.totalNorm).toBe('Infinity');
      expect(
        Object.values(c.torch.grads)
          .flat()
          .every((v) => v === 0),
      ).toBe(true);
      expect(num(c.torch.outputFloat64Norm)).toBe(0);

      const gp = gradpipe(c);
      const truth = num(c.float64Norm);
      expect(Number.isFinite(gp.norm)).toBe(true);
      expect(Math.abs(gp.norm - truth)).toBeLessThanOrEqual(truth * 1e-12);
      expectClippedToTheBound(gp, c);
    },
  );

  it('1e-30 gradients: PyTorch’s squares underflow and it reports a norm of 0; gradpipe reports 1.732e-30', () => {
    const c = byName('1e-30 gradients, L2');
    expect(num(c.torch.totalNorm)).toBe(0);
    const truth = num(c.float64Norm);
    expect(truth).toBeCloseTo(Math.sqrt(3) * Math.fround(1e-30), 40);

    const gp = gradpipe(c);
    expect(Math.abs(gp.norm - truth)).toBeLessThanOrEqual(truth * 1e-12);
    expect(Math.abs(gp.stats.normBefore - truth)).toBeLessThanOrEqual(truth * 1e-12);
    expect(gp.stats.clipped).toBe(false);
    for (const k of Object.keys(gp.input)) expect(gp.grads[k]).toEqual(gp.input[k]);
  });

  it('1e-30 gradients with maxNorm 1e-32: PyTorch zeroes them (factor 1e-32 / 1e-6); gradpipe clips them to norm 1e-32', () => {
    const c = byName('1e-30 gradients, maxNorm 1e-32');
    expect(num(c.torch.totalNorm)).toBe(0);
    expect(
      Object.values(c.torch.grads)
        .flat()
        .every((v) => v === 0),
    ).toBe(true);
    const gp = gradpipe(c);
    expect(Math.abs(gp.norm - num(c.float64Norm))).toBeLessThanOrEqual(num(c.float64Norm) * 1e-12);
    expectClippedToTheBound(gp, c);
  });

  it.each(['1e20 gradients, L1', 'random L2 clipped norm above maxNorm'])(
    '%s: PyTorch’s clipped norm is above maxNorm; gradpipe’s is not',
    (name) => {
      const c = byName(name);
      const p = pOf(c);
      // Recomputed here from PyTorch's stored output, not taken from the fixture's summary.
      const torchOutNorm = norm64(Object.values(f32(c.torch.grads)), p);
      expect(torchOutNorm).toBe(num(c.torch.outputFloat64Norm));
      expect(torchOutNorm).toBeGreaterThan(c.maxNorm);

      const gp = gradpipe(c);
      expectClippedToTheBound(gp, c);
      // Same direction as PyTorch's output, to a few float32 steps (gradpipe's 2⁻²² margin and float32 factor).
      for (const k of Object.keys(gp.input)) {
        gp.grads[k]!.forEach((v, i) => expect(Math.abs(v - num(c.torch.grads[k]![i]!))).toBeLessThanOrEqual(Math.abs(v) * 6e-7));
      }
    },
  );

  it('norm exactly at maxNorm: PyTorch still scales the gradients by 5 / 5.000001; gradpipe leaves them bit-identical', () => {
    const c = byName('norm exactly at maxNorm');
    const input = f32(c.grads);
    const torchOut = f32(c.torch.grads);
    expect(torchOut.a![0]).toBeLessThan(input.a![0]!);
    expect(torchOut.b![0]).toBeLessThan(input.b![0]!);

    const gp = gradpipe(c);
    expect(gp.stats.clipped).toBe(false);
    expect(gp.grads).toEqual(input);
  });

  it('every failure case in the fixture is covered above', () => {
    const covered = [
      '1e20 gradients, L2',
      '1e20 gradients, L3',
      '3e38 and 1e-3 gradients, L2',
      '1e-30 gradients, L2',
      '1e-30 gradients, maxNorm 1e-32',
      '1e20 gradients, L1',
      'random L2 clipped norm above maxNorm',
      'norm exactly at maxNorm',
    ];
    expect(
      fixture.clipGradNorm
        .filter((c) => c.pytorchFailure)
        .map((c) => c.name)
        .sort(),
    ).toEqual(covered.sort());
  });
});

describe('clip_grad_value_: gradpipe’s clipByValue(c) gives the same float32 values, bit for bit', () => {
  it.each(fixture.clipGradValue.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { grads } = new GradientPipeline([clipByValue(c.clipValue)]).step(f32(c.grads));
    expect(grads).toEqual(f32(c.torch.grads));
  });
});
