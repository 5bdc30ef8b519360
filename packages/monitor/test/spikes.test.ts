import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { MonitorError, type Spike, type StepRecord, spikes, summarizeRun } from '@gradpipe/monitor';
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { SpikeDetector } from '../src/SpikeDetector.js';

/** The rule of docs/monitor.md, the slow obvious way: sort the window for each value. */
function reference(values: readonly number[], window: number, z: number): boolean[] {
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const n = s.length;
    return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  };
  const seen: number[] = [];
  return values.map((x) => {
    if (!Number.isFinite(x)) return false;
    let spike = false;
    if (seen.length >= window) {
      const w = seen.slice(-window);
      const m = med(w);
      const scale = Math.max(1.4826 * med(w.map((v) => Math.abs(v - m))), 0.01 * Math.abs(m));
      spike = scale > 0 ? x - m > z * scale : x > m;
    }
    seen.push(x);
    return spike;
  });
}

describe('the spike rule', () => {
  test('the sorted-window detector agrees with sorting every window (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 20, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) },
            { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, 5, 5, 5) },
          ),
          { maxLength: 300 },
        ),
        fc.integer({ min: 3, max: 40 }),
        fc.double({ min: 0.5, max: 10, noNaN: true }),
        (values, window, z) => {
          const d = new SpikeDetector(window, z);
          expect(values.map((v) => d.isSpike(v))).toEqual(reference(values, window, z));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  test('a noisy loss with two jumps: exactly the jumps are spikes, and the summary counts them', () => {
    let seed = 3;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
    const records: StepRecord[] = Array.from({ length: 600 }, (_, step) => {
      const loss = 2 * Math.exp(-step / 300) * (1 + noise()) * (step === 250 || step === 480 ? 4 : 1);
      return { run: 'r', step, normBefore: 1 + noise(), normAfter: 1, clipped: false, skipped: false, loss };
    });
    const s = summarizeRun('r', records);
    expect(s.lossSpikes).toBe(2);
    expect(s.normSpikes).toBe(0);
  });
});

describe('spikes()', () => {
  test('emits the jumps of a pipeline’s loss and norm, with the window’s median and the z-score', () => {
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    const found: Spike[] = [];
    pipe.events$.pipe(spikes({ window: 20, z: 6 })).subscribe((s) => found.push(s));
    for (let step = 0; step < 60; step++) {
      const scale = step === 40 ? 100 : 1 + (step % 5) / 10; // norms 1…1.4, a jump to 100 at step 40
      pipe.step({ w: new Float32Array([3 * scale, 4 * scale]) }, { loss: step === 50 ? 9 : 1 + (step % 3) / 100 });
    }
    expect(found.map((s) => [s.step, s.series])).toEqual([
      [40, 'norm'],
      [50, 'loss'],
    ]);
    expect(found[0]!.value).toBeCloseTo(500, 3);
    expect(found[0]!.median).toBeCloseTo(6, 5); // norms 5, 5.5, 6, 6.5, 7 in equal shares
    expect(found[0]!.z).toBeGreaterThan(6);
  });

  test('each subscription has its own window; errors and completion pass through', () => {
    const events = new Subject<{ step: number; normBefore: number; loss?: number }>();
    const spiky = events.pipe(spikes({ window: 3, z: 1 }));
    const a: number[] = [];
    const b: number[] = [];
    let completed = false;
    spiky.subscribe({ next: (s) => a.push(s.step), complete: () => (completed = true) });
    for (const [step, v] of [
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 10],
    ] as const)
      events.next({ step, normBefore: v });
    spiky.subscribe((s) => b.push(s.step));
    events.next({ step: 4, normBefore: 100 }); // a spike for the first window; the second has seen nothing yet
    events.complete();
    expect(a).toEqual([3, 4]);
    expect(b).toEqual([]);
    expect(completed).toBe(true);
  });

  test('refuses bad options, naming them', () => {
    expect(() => spikes({ window: 2 })).toThrow(MonitorError);
    expect(() => spikes({ window: 2 })).toThrow('spikes: window must be an integer >= 3, got 2');
    expect(() => spikes({ z: Number.NaN })).toThrow('spikes: z must be a finite number > 0, got NaN');
    expect(() => spikes({ threshold: 3 } as never)).toThrow('spikes: unknown option "threshold" (known: window, z)');
  });
});
