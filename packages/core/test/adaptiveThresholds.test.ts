/**
 * Promise: the adaptive thresholds follow their definitions.
 * - AutoClip (`method: 'percentile'`): the threshold is numpy's default ('linear') percentile of the norms seen so
 *   far, this step's included — or of the last `window` of them. Pinned against numpy, then proven against an
 *   independent reference on random runs.
 * - ZClip (`method: 'zscore'`): warm-up mean and variance, then EMA updates with the clipped norm on a spike, as in
 *   the ZClip paper's reference code — an independent reference written here.
 * Skipped steps and non-finite norms never enter the statistics.
 */
import { readFileSync } from 'node:fs';
import { adaptiveClip, GradientPipeline, nanGuard } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyGrads, norm64, prove } from './support/arbitraries.js';

interface PercentileFixture {
  norms: number[];
  percentile: number;
  window: number | null;
  numpyThresholds: number[];
}
const reference = JSON.parse(readFileSync(new URL('../../../tests/fixtures/core/reference.json', import.meta.url), 'utf8')) as {
  percentile: PercentileFixture[];
};

/** numpy.percentile(values, q) with the default method 'linear', written from numpy's documentation. */
function numpyPercentile(values: readonly number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  const rank = (q / 100) * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (rank - lo);
}

const close = (actual: number, expected: number, rel = 1e-12) => Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300;

/** A step of one tensor of everyday values, at three scales; one step in ten has a NaN, which nanGuard skips. */
const step = fc
  .tuple(
    fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 5 }),
    fc.constantFrom(1, 1, 1, 1e-3, 50),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(
    ([values, scale, dice]) =>
      ({ w: Float32Array.from(values, (v, i) => (dice === 0 && i === 0 ? NaN : v * scale)) }) as Record<string, Float32Array>,
  );

describe("adaptiveClip({ method: 'percentile' }) — AutoClip", () => {
  it.each(reference.percentile.map((c) => ({ ...c, label: `q=${c.percentile} window=${c.window ?? 'all'} over ${c.norms.length} norms` })))(
    'matches numpy.percentile: $label',
    ({ norms, percentile, window, numpyThresholds }) => {
      const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile, ...(window === null ? {} : { window }) })]);
      norms.forEach((n, t) => {
        const { stats } = pipe.step({ w: Float32Array.from([n]) });
        expect(close(stats.threshold!, numpyThresholds[t]!)).toBe(true);
        expect(stats.clipped).toBe(n > numpyThresholds[t]!);
      });
    },
  );

  it('threshold = linear percentile of the norms of the applied steps so far, this one included (last `window`)', () => {
    prove(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        (steps, q, window) => {
          const pipe = new GradientPipeline([
            nanGuard(),
            adaptiveClip({ method: 'percentile', percentile: q, ...(window === undefined ? {} : { window }) }),
          ]);
          const history: number[] = [];
          for (const grads of steps) {
            const norm = norm64(Object.values(grads), 2);
            const { stats, skipped } = pipe.step(copyGrads(grads));
            expect(skipped).toBe(!Number.isFinite(norm));
            if (skipped) continue; // a skipped step is not clipped and leaves the history alone
            const measured = stats.transforms[1]!.figures.norm!;
            expect(close(measured, norm)).toBe(true);
            const seen = [...history, measured].slice(window === undefined ? 0 : -window);
            const expected = numpyPercentile(seen, q);
            expect(close(stats.threshold!, expected)).toBe(true);
            expect(stats.clipped).toBe(measured > stats.threshold!);
            if (stats.clipped) expect(stats.normAfter).toBeLessThanOrEqual(stats.threshold!);
            history.push(measured);
          }
          // The state keeps what the next step needs: every norm, or the last window - 1 of them.
          const kept = window === undefined ? history : history.slice(Math.max(0, history.length - (window - 1)));
          expect((pipe.state[1] as { sorted: number[] }).sorted).toEqual([...kept].sort((a, b) => a - b));
        },
      ),
    );
  });
});

/** ZClip as its paper's reference code describes it, on host numbers. */
class ZClipReference {
  private warmup: number[] = [];
  mean: number | null = null;
  variance: number | null = null;

  constructor(private readonly o: { alpha: number; zThreshold: number; warmupSteps: number; maxNorm: number; eps: number }) {}

  /** This step's threshold for gradient norm `g`, and the statistics updated for the next step. */
  step(g: number): { threshold: number; spike: boolean } {
    const { alpha, zThreshold, warmupSteps, maxNorm, eps } = this.o;
    if (this.mean === null || this.variance === null) {
      this.warmup.push(g);
      if (this.warmup.length === warmupSteps) {
        const n = this.warmup.length;
        const mean = this.warmup.reduce((a, b) => a + b, 0) / n;
        this.mean = mean;
        this.variance = this.warmup.reduce((a, b) => a + (b - mean) ** 2, 0) / n; // population variance
        this.warmup = [];
      }
      return { threshold: maxNorm, spike: false };
    }
    const std = Math.sqrt(this.variance);
    const z = (g - this.mean) / (std + eps);
    const spike = z > zThreshold;
    // On a spike the norm is pulled back to mean + zThreshold·std / (z / zThreshold) (ZClip's "adaptive scaling").
    const clippedTo = spike ? this.mean + (zThreshold * std) / (z / zThreshold) : g;
    const threshold = Math.min(spike ? clippedTo : this.mean + zThreshold * (std + eps), maxNorm);
    const newMean = alpha * this.mean + (1 - alpha) * clippedTo;
    this.variance = alpha * this.variance + (1 - alpha) * (clippedTo - newMean) ** 2;
    this.mean = newMean;
    return { threshold, spike };
  }
}

describe("adaptiveClip({ method: 'zscore' }) — ZClip", () => {
  it('threshold, spikes and EMA statistics follow the ZClip reference, step by step', () => {
    const options = fc.record({
      alpha: fc.double({ min: 0, max: 0.99, noNaN: true }),
      zThreshold: fc.double({ min: 0.5, max: 4, noNaN: true }),
      warmupSteps: fc.integer({ min: 1, max: 5 }),
      maxNorm: fc.oneof(fc.constant(Infinity), fc.double({ min: 0.1, max: 100, noNaN: true })),
      eps: fc.constantFrom(1e-6, 1e-3),
    });
    prove(
      fc.property(options, fc.array(step, { minLength: 1, maxLength: 30 }), (o, steps) => {
        const { maxNorm, ...rest } = o;
        const pipe = new GradientPipeline([
          nanGuard(),
          adaptiveClip({ method: 'zscore', ...rest, ...(maxNorm === Infinity ? {} : { maxNorm }) }),
        ]);
        const ref = new ZClipReference(o);
        for (const grads of steps) {
          const { stats, skipped } = pipe.step(copyGrads(grads));
          if (skipped) continue;
          const { figures, threshold } = stats.transforms[1]!;
          expect(close(figures.norm!, norm64(Object.values(grads), 2))).toBe(true);
          const expected = ref.step(figures.norm!);
          expect(threshold === expected.threshold || close(threshold!, expected.threshold, 1e-10)).toBe(true);
          expect(figures.spike === 1).toBe(expected.spike);
          expect(stats.clipped).toBe(figures.norm! > threshold!);
          if (stats.clipped) expect(stats.normAfter).toBeLessThanOrEqual(threshold!);
          const state = pipe.state[1] as { mean: number | null; variance: number | null };
          if (ref.mean === null) {
            expect(state.mean).toBeNull();
          } else {
            expect(close(state.mean!, ref.mean, 1e-10)).toBe(true);
            expect(close(state.variance!, ref.variance!, 1e-9)).toBe(true);
          }
        }
      }),
    );
  });

  it('pins a spike: warm-up on norms 1, 1.2, 0.9, then 30 is pulled back to mean + z²·std/z', () => {
    const pipe = new GradientPipeline([adaptiveClip({ method: 'zscore', warmupSteps: 3, zThreshold: 2.5, alpha: 0.97 })]);
    for (const n of [1, 1.2, 0.9]) pipe.step({ w: Float32Array.from([n]) });
    const mean = (Math.fround(1) + Math.fround(1.2) + Math.fround(0.9)) / 3;
    const variance = [1, 1.2, 0.9].map(Math.fround).reduce((a, v) => a + (v - mean) ** 2, 0) / 3;
    const std = Math.sqrt(variance);
    const z = (30 - mean) / (std + 1e-6);
    const { stats } = pipe.step({ w: Float32Array.from([30]) });
    expect(stats.clipped).toBe(true);
    expect(stats.threshold).toBeCloseTo(mean + (2.5 * 2.5 * std) / z, 12);
    expect(stats.normAfter).toBeLessThanOrEqual(stats.threshold!);
  });
});
