/**
 * Promises of `pipe.events$`: one event per step, emitted hot; nothing extra is computed for it when nobody
 * listens; a subscriber (or an operator piped onto events$) that throws cannot break training; the helper
 * operators select the steps they say.
 */

import {
  clipByGlobalNorm,
  everyNthStep,
  GradientPipeline,
  nanGuard,
  normAbove,
  onlyClipped,
  onlySkipped,
  type StepEvent,
  type TensorOps,
  typedArrayOps,
} from '@gradpipe/core';
import { map, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const pipeline = (options = {}) => new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })], options);
/** Gradients of norm `n` (3-4-5 scaled), or a NaN step. */
const gradsOfNorm = (n: number) => ({ w: new Float32Array([0.6 * n, 0.8 * n]), b: new Float32Array([0]) });
const nanStep = () => ({ w: new Float32Array([NaN, 1]), b: new Float32Array([0]) });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('events$', () => {
  it('emits one event per step, synchronously, carrying that step’s stats', () => {
    const pipe = pipeline();
    const events: StepEvent[] = [];
    pipe.events$.subscribe((e) => events.push(e));
    const results = [0.5, 3, NaN, 2].map((n, i) => {
      const r = pipe.step(Number.isNaN(n) ? nanStep() : gradsOfNorm(n), { loss: i });
      expect(events).toHaveLength(i + 1); // already there when step returns
      return r;
    });
    expect(events.map((e) => e.step)).toEqual([0, 1, 2, 3]);
    expect(events).toEqual(results.map((r) => r.stats));
    expect(events.map((e) => [e.clipped, e.skipped, e.loss])).toEqual([
      [false, false, 0],
      [true, false, 1],
      [false, true, 2],
      [true, false, 3],
    ]);
  });

  it('is hot: a late subscriber sees only the steps after it subscribed', () => {
    const pipe = pipeline();
    const early: number[] = [];
    const late: number[] = [];
    pipe.events$.subscribe((e) => early.push(e.step));
    pipe.step(gradsOfNorm(1));
    pipe.step(gradsOfNorm(2));
    const subscription = pipe.events$.subscribe((e) => late.push(e.step));
    pipe.step(gradsOfNorm(3));
    subscription.unsubscribe();
    pipe.step(gradsOfNorm(4));
    expect(early).toEqual([0, 1, 2, 3]);
    expect(late).toEqual([2]);
  });

  it('adds per-tensor norms only when asked ({ tensorNorms: true }), and never to the returned stats', () => {
    const withNorms = pipeline({ tensorNorms: true });
    const events: StepEvent[] = [];
    withNorms.events$.subscribe((e) => events.push(e));
    const { stats } = withNorms.step({ w: new Float32Array([3, 4]), b: new Float32Array([12]) });
    expect(events[0]!.tensorNorms).toEqual({ w: 5, b: 12 });
    expect(stats).not.toHaveProperty('tensorNorms');

    const without = pipeline();
    const plain: StepEvent[] = [];
    without.events$.subscribe((e) => plain.push(e));
    without.step(gradsOfNorm(2));
    expect(plain[0]).not.toHaveProperty('tensorNorms');
  });

  it('costs nothing when nobody listens: same backend work with or without subscribers, no event built', () => {
    /** typedArrayOps with every call counted. */
    function countingOps(): { ops: TensorOps<Float32Array, number>; calls: Map<string, number> } {
      const calls = new Map<string, number>();
      const base = typedArrayOps as unknown as Record<string, unknown>;
      const ops = Object.fromEntries(
        Object.entries(base).map(([k, v]) => [
          k,
          typeof v === 'function'
            ? (...args: unknown[]) => {
                calls.set(k, (calls.get(k) ?? 0) + 1);
                return (v as (...a: unknown[]) => unknown).apply(base, args);
              }
            : v,
        ]),
      ) as unknown as TensorOps<Float32Array, number>;
      return { ops, calls };
    }
    const run = (subscribe: boolean) => {
      const pipe = pipeline({ tensorNorms: true });
      const seen: StepEvent[] = [];
      if (subscribe) pipe.events$.subscribe((e) => seen.push(e));
      const { ops, calls } = countingOps();
      for (const n of [0.5, 3, 7]) pipe.stepWith(ops, gradsOfNorm(n));
      return { calls: Object.fromEntries(calls), seen };
    };
    const quiet = run(false);
    const listened = run(true);
    expect(listened.seen).toHaveLength(3);
    expect(listened.seen[0]!.tensorNorms).toBeDefined();
    expect(quiet.calls).toEqual(listened.calls); // the per-tensor norms are the ones the step measures anyway
    expect(quiet.calls.read).toBe(3); // one read-back per step
  });

  it('a subscriber that throws does not break training: the error goes to onSubscriberError, everyone keeps receiving', async () => {
    const errors: unknown[] = [];
    const pipe = pipeline({ onSubscriberError: (e: unknown) => errors.push(e) });
    const thrower: number[] = [];
    const calm: number[] = [];
    pipe.events$.subscribe((e) => {
      thrower.push(e.step);
      throw new Error(`logger broke at step ${e.step}`);
    });
    pipe.events$.subscribe((e) => calm.push(e.step));
    const results = [2, 0.5, 4].map((n) => pipe.step(gradsOfNorm(n)));
    expect(results.map((r) => r.stats.step)).toEqual([0, 1, 2]);
    expect(results[2]!.grads.w![1]).toBeLessThan(1); // the clipping still happened
    expect(thrower).toEqual([0, 1, 2]);
    expect(calm).toEqual([0, 1, 2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['logger broke at step 0', 'logger broke at step 1', 'logger broke at step 2']);
    await new Promise((resolve) => setTimeout(resolve, 20)); // rxjs would rethrow asynchronously here; nothing must surface
  });

  it('by default a throwing subscriber is reported with console.error and the process goes on', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const pipe = pipeline();
    pipe.events$.subscribe(() => {
      throw new Error('boom');
    });
    expect(() => pipe.step(gradsOfNorm(2))).not.toThrow();
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]![0])).toMatch(/subscriber threw/);
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('a throwing operator piped onto events$ (map) is contained as well', async () => {
    const errors: unknown[] = [];
    const pipe = pipeline({ onSubscriberError: (e: unknown) => errors.push(e) });
    const received: number[] = [];
    pipe.events$
      .pipe(
        map((e) => {
          if (e.step === 1) throw new Error('map broke');
          return e.step;
        }),
      )
      .subscribe((s) => received.push(s));
    const handled: unknown[] = [];
    pipe.events$
      .pipe(
        map(() => {
          throw new Error('handled by its subscriber');
        }),
      )
      .subscribe({ error: (e) => handled.push(e) });
    for (const n of [2, 3, 4]) expect(() => pipe.step(gradsOfNorm(n))).not.toThrow();
    expect(pipe.stepCount).toBe(3);
    expect(received).toEqual([0]); // an error ends that chain (rxjs semantics); training is unaffected
    expect(errors.map((e) => (e as Error).message)).toEqual(['map broke']);
    expect(handled.map((e) => (e as Error).message)).toEqual(['handled by its subscriber']);
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('close() completes every subscriber; later steps still work but emit nothing', async () => {
    const pipe = pipeline();
    const all = new Promise<StepEvent[]>((resolve) => pipe.events$.pipe(toArray()).subscribe(resolve));
    pipe.step(gradsOfNorm(2));
    pipe.close();
    expect((await all).map((e) => e.step)).toEqual([0]);
    expect(pipe.step(gradsOfNorm(2)).stats.step).toBe(1);
  });
});

describe('operators for hooks', () => {
  /** Steps 0–5: norms 0.5, 3, NaN (skipped), 2, 0.2, 5. */
  function collect<T>(attach: (pipe: GradientPipeline, out: T[]) => void): T[] {
    const pipe = pipeline();
    const out: T[] = [];
    attach(pipe, out);
    for (const n of [0.5, 3, NaN, 2, 0.2, 5]) pipe.step(Number.isNaN(n) ? nanStep() : gradsOfNorm(n));
    return out;
  }

  it('onlyClipped lets through the clipped steps', () => {
    expect(collect<number>((p, out) => p.events$.pipe(onlyClipped()).subscribe((e) => out.push(e.step)))).toEqual([1, 3, 5]);
  });

  it('onlySkipped lets through the skipped steps', () => {
    expect(collect<number>((p, out) => p.events$.pipe(onlySkipped()).subscribe((e) => out.push(e.step)))).toEqual([2]);
  });

  it('everyNthStep(n) lets through steps 0, n, 2n, …', () => {
    expect(collect<number>((p, out) => p.events$.pipe(everyNthStep(2)).subscribe((e) => out.push(e.step)))).toEqual([0, 2, 4]);
    expect(collect<number>((p, out) => p.events$.pipe(everyNthStep(1)).subscribe((e) => out.push(e.step)))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('normAbove(limit) lets through norms above the limit, and non-finite ones (an explosion is above any limit)', () => {
    expect(collect<number>((p, out) => p.events$.pipe(normAbove(2.5)).subscribe((e) => out.push(e.step)))).toEqual([1, 2, 5]);
  });

  it('operators keep the guard: a throwing subscriber after an operator is contained', () => {
    const errors: unknown[] = [];
    const pipe = pipeline({ onSubscriberError: (e: unknown) => errors.push(e) });
    pipe.events$.pipe(onlyClipped(), everyNthStep(1)).subscribe(() => {
      throw new Error('after operators');
    });
    expect(() => pipe.step(gradsOfNorm(3))).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});
