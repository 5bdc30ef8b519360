/**
 * AutoClip's reference implementations, ported as behaviour tests of `adaptiveClip({ method: 'percentile' })`.
 *
 * Source: pseeth/autoclip (the code accompanying Seetharaman et al. 2020), which ships no tests:
 * - `autoclip.py`, `add_autoclip_gradient_handler`: at every step `grad_history.append(obs_grad_norm)`, then
 *   `clip_value = np.percentile(grad_history, clip_percentile)` and
 *   `torch.nn.utils.clip_grad_norm_(model.parameters(), clip_value)`; `_get_grad_norm` is the global L2 norm;
 * - `autoclip_tf.py`, `AutoClipper(clip_percentile, history_size=10000)`: a ring buffer of the last
 *   `history_size` norms, `tfp.stats.percentile` of it, then `tf.clip_by_norm(g, clip_value)` for every tensor.
 *
 * gradpipe follows the PyTorch reference (numpy's default 'linear' percentile of every norm so far, this step's
 * included; one factor for all tensors); `window` is the TF reference's `history_size`. The reference is
 * transliterated below and compared step by step.
 */

import { adaptiveClip, GradientPipeline, nanGuard } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copy, f32, type Grads, norm64, sameBits } from './support.js';

/** np.percentile(values, q), numpy's default method 'linear' as its documentation defines it. */
function npPercentile(values: readonly number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.some(Number.isNaN)) return NaN; // numpy propagates NaN
  const rank = (q / 100) * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (rank - lo);
}

/** autoclip.py's handler on host numbers: the threshold of this step, and torch's clip_coef (clamped to 1). */
class AutoClipReference {
  readonly history: number[] = [];
  constructor(private readonly percentile: number) {}
  step(norm: number): { clipValue: number; coef: number } {
    this.history.push(norm);
    const clipValue = npPercentile(this.history, this.percentile);
    return { clipValue, coef: Math.min(clipValue / (norm + 1e-6), 1) };
  }
}

/** Two tensors of everyday values, at scales that make the global norm wander over three decades. */
const gradsArb = fc
  .tuple(
    fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 4 }),
    fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 4 }),
    fc.constantFrom(1, 0.1, 10),
  )
  .map(([a, b, s]): Grads => ({ a: Float32Array.from(a, (v) => v * s), b: Float32Array.from(b, (v) => v * s) }));

describe('autoclip.py (PyTorch reference)', () => {
  it('threshold = np.percentile(history incl. this norm, q) and clipping happens where the reference clips (property)', () => {
    fc.assert(
      fc.property(fc.array(gradsArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 100 }), (steps, q) => {
        const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: q })]);
        const ref = new AutoClipReference(q);
        for (const input of steps) {
          const norm = norm64(Object.values(input)); // _get_grad_norm: sqrt(Σ ‖p.grad‖²)
          const { grads, stats } = pipe.step(copy(input));
          expect(Math.abs(stats.normBefore - norm)).toBeLessThanOrEqual(1e-12 * norm);
          const { clipValue, coef } = ref.step(stats.normBefore);
          expect(Math.abs(stats.threshold! - clipValue)).toBeLessThanOrEqual(1e-12 * clipValue);
          // The reference scales whenever max_norm / (norm + 1e-6) < 1, i.e. also at norm == threshold (by
          // 1 − ~1e-6); gradpipe exactly when norm > threshold, and leaves the gradients alone otherwise.
          expect(stats.clipped).toBe(stats.normBefore > stats.threshold!);
          if (stats.clipped) {
            const after = norm64(Object.values(grads));
            expect(after).toBeLessThanOrEqual(stats.threshold!); // gradpipe: exactly within the threshold
            expect(Math.abs(after - coef * norm)).toBeLessThanOrEqual(2e-6 * norm + 1e-6); // the reference's result
          } else {
            for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
          }
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('the first step: its norm is the whole history, so the threshold is that norm; gradpipe does not scale', () => {
    // autoclip.py calls clip_grad_norm_(params, clip_value = norm), whose coefficient norm / (norm + 1e-6) < 1
    // shrinks the first gradient (and every step whose norm is the percentile). Deliberately different: at
    // norm == threshold gradpipe leaves the gradients bit-identical.
    const input: Grads = { a: f32(3), b: f32(4) };
    const ref = new AutoClipReference(10).step(5);
    expect(ref.clipValue).toBe(5);
    expect(ref.coef).toBeLessThan(1);
    const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: 10 })]);
    const { grads, stats } = pipe.step(copy(input));
    expect(stats.threshold).toBe(5);
    expect(stats.clipped).toBe(false);
    for (const k of Object.keys(input)) expect(sameBits(grads[k]!, input[k]!)).toBe(true);
  });

  it('a spike is clipped to the 10th percentile of the norms so far: 1, 2, 3, 4 then 100 → threshold 1.4', () => {
    const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: 10 })]);
    for (const n of [1, 2, 3, 4]) pipe.step({ g: f32(n) });
    const { grads, stats } = pipe.step({ g: f32(100) });
    const expected = npPercentile([1, 2, 3, 4, 100], 10); // rank 0.4 between 1 and 2: 1.4
    expect(stats.threshold).toBeCloseTo(expected, 12);
    expect(grads.g![0]!).toBeLessThanOrEqual(expected);
    expect(grads.g![0]!).toBeCloseTo(expected, 5);
  });

  it('a non-finite norm: the reference appends it and every later threshold is NaN; gradpipe keeps it out', () => {
    // np.percentile of a history holding NaN is NaN, and clip_grad_norm_(…, nan) multiplies every gradient by NaN,
    // at this step and all later ones. Deliberately different: non-finite norms never enter gradpipe's history,
    // so one bad step cannot disable clipping for the rest of training.
    const ref = new AutoClipReference(50);
    ref.step(1);
    ref.step(NaN);
    expect(ref.step(3).clipValue).toBeNaN();

    const pipe = new GradientPipeline([nanGuard(), adaptiveClip({ method: 'percentile', percentile: 50 })]);
    pipe.step({ g: f32(1) });
    expect(pipe.step({ g: f32(NaN) }).skipped).toBe(true);
    const { stats } = pipe.step({ g: f32(3) });
    expect(stats.threshold).toBe(npPercentile([1, 3], 50)); // 2: the NaN step is not in the history
    expect(stats.clipped).toBe(true);

    // Without nanGuard too: the NaN step is passed through untouched and still leaves the history alone.
    const bare = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: 50 })]);
    bare.step({ g: f32(1) });
    const nanStep = bare.step({ g: f32(NaN) });
    expect(nanStep.grads.g![0]).toBeNaN();
    expect(bare.step({ g: f32(3) }).stats.threshold).toBe(2);
  });
});

describe('autoclip_tf.py (TensorFlow reference)', () => {
  it('history_size: only the last `window` norms count, this one included', () => {
    // AutoClipper writes norm i at i mod history_size and takes the percentile of the filled part: once full,
    // exactly the last history_size norms. gradpipe's `window` is that.
    const norms = [10, 1, 2, 3, 50];
    const historySize = 3;
    const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: 50, window: historySize })]);
    norms.forEach((n, t) => {
      const { stats } = pipe.step({ g: f32(n) });
      const last = norms.slice(Math.max(0, t + 1 - historySize), t + 1);
      expect(stats.threshold).toBe(npPercentile(last, 50));
    });
  });

  it('one factor for all tensors: the TF sample clips each tensor to the threshold, gradpipe the global norm', () => {
    // autoclip_tf.py applies tf.clip_by_norm(g, clip_value) per tensor, so a model of two tensors may keep a
    // global norm of up to √2 · clip_value and change direction. gradpipe follows autoclip.py (clip_grad_norm_):
    // the global norm is brought to the threshold and the direction is kept. (The TF sample's tfp.stats.percentile
    // also defaults to 'nearest' interpolation; gradpipe uses numpy's 'linear' like autoclip.py.)
    const pipe = new GradientPipeline([adaptiveClip({ method: 'percentile', percentile: 0 })]);
    pipe.step({ a: f32(0.6), b: f32(0.8) }); // norm 1: the smallest norm so far, the 0th percentile, stays 1
    const input = { a: f32(3), b: f32(4) }; // norm 5
    const { grads, stats } = pipe.step(copy(input));
    expect(stats.threshold).toBeCloseTo(1, 7);
    expect(norm64(Object.values(grads))).toBeLessThanOrEqual(stats.threshold!);
    expect(grads.a![0]! / grads.b![0]!).toBeCloseTo(3 / 4, 6); // direction kept
    // Per tensor (the TF sample), a = 3 and b = 4 would both become 1: ratio 1, global norm √2.
  });
});
