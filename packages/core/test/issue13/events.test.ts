/**
 * Issue 13, item 1 (events). Promises: a subscriber cannot break training, asynchronously either — an `async`
 * subscriber's rejection reaches `onSubscriberError` and never becomes an unhandled rejection; an event is a frozen
 * snapshot, so a subscriber that edits it cannot edit the step's own `result.stats` (or what the next subscriber
 * sees); the pipeline's options are checked: a non-function `onSubscriberError`, a non-boolean `tensorNorms` and a
 * misspelt option are refused with a GradpipeError (the misspelling with a "did you mean" hint).
 */

import { clipByGlobalNorm, GradientPipeline, GradpipeError, nanGuard, type StepEvent } from '@gradpipe/core';
import { filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';

const unsafe = <T>(v: unknown) => v as T; // hands a value past the type checker, as plain JavaScript would
const transforms = () => [nanGuard(), clipByGlobalNorm({ maxNorm: 1 })];
const grads = () => ({ w: new Float32Array([3, 4]), b: new Float32Array([0]) });

/** Node reports an unhandled rejection once the microtask queue has drained; a macrotask later, it has. */
const afterRejectionsAreReported = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Collects the process's unhandled rejections while a test runs. */
function watchUnhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  stopWatching.push(() => process.off('unhandledRejection', listener));
  return seen;
}
const stopWatching: (() => void)[] = [];
afterEach(() => {
  for (const stop of stopWatching.splice(0)) stop();
});

/** Calls `f`, expecting a GradpipeError with exactly `message` (a string) or matching it (a RegExp). */
function expectRefusal(f: () => unknown, message: string | RegExp): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GradpipeError);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe('issue 13, item 1 (events): an async subscriber cannot break training', () => {
  it('an async subscriber that rejects: the rejection goes to onSubscriberError, not to unhandledRejection', async () => {
    const unhandled = watchUnhandledRejections();
    const errors: unknown[] = [];
    const pipe = new GradientPipeline(transforms(), { onSubscriberError: (e) => errors.push(e) });
    const calm: number[] = [];
    pipe.events$.subscribe(async (e) => {
      await Promise.resolve();
      throw new Error(`async logger broke at step ${e.step}`);
    });
    pipe.events$.subscribe((e) => calm.push(e.step));
    for (let i = 0; i < 3; i++) expect(() => pipe.step(grads())).not.toThrow();
    await afterRejectionsAreReported();
    expect(errors.map((e) => (e as Error).message)).toEqual([
      'async logger broke at step 0',
      'async logger broke at step 1',
      'async logger broke at step 2',
    ]);
    expect(unhandled).toEqual([]);
    expect(calm).toEqual([0, 1, 2]); // the other subscriber kept receiving
    expect(pipe.stepCount).toBe(3);
  });

  it('an async subscriber behind an operator (events$.pipe(filter)) is guarded the same way', async () => {
    const unhandled = watchUnhandledRejections();
    const errors: unknown[] = [];
    const pipe = new GradientPipeline(transforms(), { onSubscriberError: (e) => errors.push(e) });
    pipe.events$.pipe(filter((e) => e.clipped)).subscribe(async () => {
      throw new Error('rejected after an operator');
    });
    pipe.step(grads());
    await afterRejectionsAreReported();
    expect(errors.map((e) => (e as Error).message)).toEqual(['rejected after an operator']);
    expect(unhandled).toEqual([]);
  });

  it('a subscriber returning a rejecting thenable (not a native promise) is guarded too', async () => {
    const unhandled = watchUnhandledRejections();
    const errors: unknown[] = [];
    const pipe = new GradientPipeline(transforms(), { onSubscriberError: (e) => errors.push(e) });
    const thenable = { then: (_ok: unknown, fail: (e: unknown) => void) => fail(new Error('thenable failed')) };
    pipe.events$.subscribe(unsafe<(e: StepEvent) => void>(() => thenable));
    pipe.step(grads());
    await afterRejectionsAreReported();
    expect(errors.map((e) => (e as Error).message)).toEqual(['thenable failed']);
    expect(unhandled).toEqual([]);
  });
});

describe('issue 13, item 1 (events): an event is a frozen snapshot, not the caller’s result.stats', () => {
  it('a subscriber that edits its event cannot edit result.stats, nor what the next subscriber sees', () => {
    const errors: unknown[] = [];
    const pipe = new GradientPipeline(transforms(), { onSubscriberError: (e) => errors.push(e) });
    const edits: [string, (e: StepEvent) => void][] = [
      ['normBefore', (e) => ((e as { normBefore: number }).normBefore = 0)],
      ['clipped', (e) => ((e as { clipped: boolean }).clipped = false)],
      ['nonFinite.push', (e) => (e.nonFinite as string[]).push('x')],
      ['transforms[1].figures.norm', (e) => ((e.transforms[1]!.figures as Record<string, number>).norm = 0)],
      ['transforms[1].clipped', (e) => ((e.transforms[1] as { clipped: boolean }).clipped = false)],
      ['transforms.pop', (e) => (e.transforms as unknown[]).pop()],
      ['a new field', (e) => ((e as unknown as Record<string, unknown>).extra = 1)],
    ];
    for (const [, edit] of edits) pipe.events$.subscribe(edit);
    const seenAfterEdits: StepEvent[] = [];
    pipe.events$.subscribe((e) => seenAfterEdits.push(structuredClone(e)));

    const result = pipe.step(grads());
    // Every edit threw (strict mode: assigning to a frozen object is a TypeError) and went to onSubscriberError.
    expect(errors).toHaveLength(edits.length);
    for (const e of errors) expect(e).toBeInstanceOf(TypeError);
    expect(result.stats.normBefore).toBe(5);
    expect(result.stats.clipped).toBe(true);
    expect(result.stats.nonFinite).toEqual([]);
    expect(result.stats.transforms).toHaveLength(2);
    expect(result.stats.transforms[1]!.figures.norm).toBe(5);
    expect(result.stats.transforms[1]!.clipped).toBe(true);
    expect(result.stats).not.toHaveProperty('extra');
    expect(seenAfterEdits).toEqual([structuredClone(result.stats)]);
  });

  it('result.stats and the event are deep-frozen, the per-tensor norms of tensorNorms: true included', () => {
    const pipe = new GradientPipeline(transforms(), { tensorNorms: true });
    const events: StepEvent[] = [];
    pipe.events$.subscribe((e) => events.push(e));
    const { stats } = pipe.step(grads());
    const everyObject = (value: unknown): object[] =>
      typeof value === 'object' && value !== null ? [value, ...Object.values(value).flatMap(everyObject)] : [];
    for (const snapshot of [stats, events[0]!]) {
      const objects = everyObject(snapshot);
      expect(objects.length).toBeGreaterThan(4); // the stats, nonFinite, transforms, each transform, its figures
      for (const o of objects) expect(Object.isFrozen(o)).toBe(true);
    }
    expect(events[0]!.tensorNorms).toEqual({ w: 5, b: 0 });
    expect(Object.isFrozen(events[0]!.tensorNorms)).toBe(true);
  });
});

describe('issue 13, item 1 (events): the pipeline’s options are checked', () => {
  it('onSubscriberError: "log" (not a function) is refused', () => {
    expectRefusal(
      () => new GradientPipeline(transforms(), { onSubscriberError: unsafe('log') }),
      'GradientPipeline: onSubscriberError must be a function (error) => void, got "log"',
    );
    const json = new GradientPipeline(transforms()).toJSON();
    expectRefusal(
      () => GradientPipeline.fromJSON(json, { onSubscriberError: unsafe('log') }),
      'GradientPipeline.fromJSON: onSubscriberError must be a function (error) => void, got "log"',
    );
  });

  it("tensorNorms: 'yes' is refused", () => {
    expectRefusal(
      () => new GradientPipeline(transforms(), { tensorNorms: unsafe('yes') }),
      'GradientPipeline: tensorNorms must be true or false, got "yes"',
    );
    expectRefusal(
      () => new GradientPipeline(transforms(), { tensorNorms: unsafe(1) }),
      'GradientPipeline: tensorNorms must be true or false, got 1',
    );
  });

  it('an unknown option is refused with a did-you-mean hint (tensorNorm → "tensorNorms")', () => {
    expectRefusal(
      () => new GradientPipeline(transforms(), unsafe({ tensorNorm: true })),
      /^GradientPipeline: unknown option "tensorNorm" \(did you mean "tensorNorms"\? known: tensorNorms, .*onSubscriberError\)$/,
    );
    expectRefusal(
      () => new GradientPipeline(transforms(), unsafe({ onSubscriberErr: () => {} })),
      /^GradientPipeline: unknown option "onSubscriberErr" \(did you mean "onSubscriberError"\?/,
    );
    const json = new GradientPipeline(transforms()).toJSON();
    expectRefusal(
      () => GradientPipeline.fromJSON(json, unsafe({ tensorNorm: true })),
      /^GradientPipeline\.fromJSON: unknown option "tensorNorm" \(did you mean "tensorNorms"\?/,
    );
  });
});
