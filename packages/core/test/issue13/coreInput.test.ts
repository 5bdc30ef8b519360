/**
 * Issue 13, item 3 (core input). Promises: a step refuses what it cannot clip correctly — the same tensor under two
 * names, overlapping views of one buffer, a Map instead of a plain object, a misspelt step option, `params: null`,
 * `shapes: null`, a view of a detached buffer — with a GradpipeError, and after every refusal the caller's arrays
 * hold exactly the bits they held before. Non-overlapping views of one buffer are fine. nanGuard's 'zero' policy
 * refuses the step that exceeds maxConsecutive before it zeroes anything; clipByValue with a bound beyond float32's
 * range keeps finite gradients finite; error messages show a bigint as `1n`.
 */

import {
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  GradientPipeline,
  GradpipeError,
  nanGuard,
  type StepOptions,
} from '@gradpipe/core';
import { describe, expect, it } from 'vitest';

const unsafe = <T>(v: unknown) => v as T; // hands a value past the type checker, as plain JavaScript would
const FLOAT32_MAX = 3.4028234663852886e38;

/** The bits of every array (by name), to compare before and after a step. */
const bitsOf = (arrays: Iterable<[string, Float32Array]>): Record<string, number[]> =>
  Object.fromEntries([...arrays].map(([k, a]) => [k, Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))]));

/**
 * Steps `pipe` with bad input and checks the refusal: a GradpipeError of `fn` (default GradientPipeline.step) whose message is
 * (or matches) `message`; the arrays passed in (`watched`, default the gradients) bit-identical; no step counted.
 */
function refusesUntouched(
  pipe: GradientPipeline,
  grads: unknown,
  options: unknown,
  message: string | RegExp,
  watched: Iterable<[string, Float32Array]> = Object.entries(grads as Record<string, Float32Array>),
  fn = 'GradientPipeline.step',
): void {
  const list = [...watched];
  const before = bitsOf(list);
  const stepsBefore = pipe.stepCount;
  let error: unknown;
  try {
    pipe.step(unsafe(grads), unsafe<StepOptions<Float32Array>>(options));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GradpipeError);
  expect((error as GradpipeError).fn).toBe(fn);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
  expect(bitsOf(list)).toEqual(before);
  expect(pipe.stepCount).toBe(stepsBefore);
}

/** A pipeline that changes every gradient in place if it runs at all: a refusal must come before it. */
const clipping = () => new GradientPipeline([clipByValue(0.1), clipByNorm({ maxNorm: 0.01 }), clipByGlobalNorm({ maxNorm: 0.001 })]);

describe('issue 13, item 3 (core input): one tensor, one name', () => {
  it('the same Float32Array under two names is refused ("are the same tensor")', () => {
    const shared = new Float32Array([0.6, 0.8]);
    const other = new Float32Array([3, 4]);
    refusesUntouched(
      clipping(),
      { a: shared, other, b: shared },
      {},
      'GradientPipeline.step: gradients "a" and "b" are the same tensor: give each tensor once',
    );
  });

  it('overlapping views of one buffer are refused ("share memory")', () => {
    const buffer = new ArrayBuffer(8 * 4);
    new Float32Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
    const cases: [number, number, number, number][] = [
      [0, 4, 3, 4], // elements 0–3 and 3–6
      [0, 8, 2, 2], // one inside the other
      [4, 4, 0, 5], // the second starts before the first, and reaches into it
    ];
    for (const [offsetA, lengthA, offsetB, lengthB] of cases) {
      const a = new Float32Array(buffer, offsetA * 4, lengthA);
      const b = new Float32Array(buffer, offsetB * 4, lengthB);
      refusesUntouched(
        clipping(),
        { a, b },
        {},
        'GradientPipeline.step: gradients "a" and "b" share memory (overlapping views of one buffer): give each tensor its own',
        [['all', new Float32Array(buffer)]],
      );
    }
  });

  it('non-overlapping views of one buffer are accepted and clipped exactly as separate arrays', () => {
    const buffer = new ArrayBuffer(7 * 4);
    const whole = new Float32Array(buffer);
    whole.set([3, 4, 0, 1, 2, 2, 9]);
    const views = { a: new Float32Array(buffer, 0, 2), b: new Float32Array(buffer, 8, 4), c: new Float32Array(buffer, 24, 1) };
    const separate = { a: Float32Array.from(views.a), b: Float32Array.from(views.b), c: Float32Array.from(views.c) };
    const viaViews = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step(views);
    const viaArrays = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step(separate);
    expect(viaViews.stats).toEqual(viaArrays.stats);
    // Counted once each, not 0 or twice (within the 2·2⁻²⁴ StepStats promises).
    expect(Math.abs(viaViews.stats.normBefore - Math.sqrt(115))).toBeLessThanOrEqual(2 * 2 ** -24 * Math.sqrt(115));
    expect(bitsOf(Object.entries(viaViews.grads))).toEqual(bitsOf(Object.entries(viaArrays.grads)));
    // Each value was scaled once: the buffer holds the separately clipped values.
    expect(Array.from(whole)).toEqual([...separate.a, ...separate.b, ...separate.c]);
    // Empty views (byteLength 0) overlap nothing, even at the same offset.
    expect(() =>
      new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step({
        x: new Float32Array(buffer, 4, 0),
        y: new Float32Array(buffer, 4, 0),
      }),
    ).not.toThrow();
  });
});

describe('issue 13, item 3 (core input): grads and step options are plain objects, checked', () => {
  it('a Map of gradients is refused ("grads must be a plain object"), its arrays untouched', () => {
    const w = new Float32Array([3, 4]);
    refusesUntouched(
      clipping(),
      new Map([['w', w]]),
      {},
      'GradientPipeline.step: grads must be a plain object of named tensors ({ name: tensor }), got Map(1)',
      [['w', w]],
    );
    class Grads {
      w = new Float32Array([3, 4]);
    }
    const instance = new Grads();
    refusesUntouched(
      clipping(),
      instance,
      {},
      /^GradientPipeline\.step: grads must be a plain object of named tensors .*, got Grads instance$/,
      [['w', instance.w]],
    );
  });

  it('a misspelt step option (shape: for shapes:) is refused with a did-you-mean hint, before agc treats each tensor as one unit', () => {
    const grads = { w: new Float32Array([1, 0, 0, 1]) };
    const params = { w: new Float32Array([1, 1, 1, 1]) };
    const pipe = () => new GradientPipeline([agc({ clipping: 0.01 })]);
    refusesUntouched(
      pipe(),
      grads,
      { params, shape: { w: [2, 2] } },
      /^GradientPipeline\.step: unknown option "shape" \(did you mean "shapes"\? known: params, shapes, [^)]*\)$/,
      [...Object.entries(grads), ['param w', params.w]],
    );
    refusesUntouched(pipe(), grads, { param: params }, /^GradientPipeline\.step: unknown option "param" \(did you mean "params"\?/);
    refusesUntouched(pipe(), grads, { params, Lr: 0.1 }, /^GradientPipeline\.step: unknown option "Lr" \(did you mean "lr"\?/);
  });

  it('params: null and shapes: null give GradpipeErrors (not TypeErrors)', () => {
    const grads = () => ({ w: new Float32Array([3, 4, 5, 6]) });
    const params = { w: new Float32Array([1, 1, 1, 1]) };
    refusesUntouched(
      clipping(),
      grads(),
      { params: null },
      'GradientPipeline.step: params must be a plain object of named tensors, got null',
    );
    refusesUntouched(
      new GradientPipeline([agc()]),
      grads(),
      { params: null },
      'GradientPipeline.step: params must be a plain object of named tensors, got null',
    );
    refusesUntouched(
      clipping(),
      grads(),
      { shapes: null },
      'GradientPipeline.step: shapes must be a plain object of shapes by gradient name, got null',
    );
    refusesUntouched(
      new GradientPipeline([agc()]),
      grads(),
      { params, shapes: null },
      'GradientPipeline.step: shapes must be a plain object of shapes by gradient name, got null',
      [...Object.entries(grads()), ['param w', params.w]],
    );
  });

  it('a view of a detached buffer (transferred away) is refused ("detached"), not taken as an empty tensor', () => {
    const a = new Float32Array([3, 4]);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(a.length).toBe(0); // what the pipeline would otherwise have seen: an empty tensor
    const b = new Float32Array([5, 12]);
    refusesUntouched(
      clipping(),
      { b, a },
      {},
      'GradientPipeline.step: gradient "a" is a view of a detached ArrayBuffer (transferred to a worker or freed): it holds no data',
      [['b', b]],
    );
    // As a parameter, too.
    const p = new Float32Array([1, 1]);
    structuredClone(p.buffer, { transfer: [p.buffer] });
    const g = new Float32Array([0, 0]);
    refusesUntouched(new GradientPipeline([clipByValue(1), agc()]), { g }, { params: { g: p } }, /^GradientPipeline\.step: param "g" /);
  });
});

describe('issue 13, item 3 (core input): nanGuard refuses before it zeroes', () => {
  it("nanGuard({ policy: 'zero', maxConsecutive: 1 }) refuses the step that exceeds maxConsecutive with the caller's arrays bit-identical", () => {
    const pipe = new GradientPipeline([nanGuard({ policy: 'zero', maxConsecutive: 1 })]);
    const first = { w: new Float32Array([NaN, 1]) };
    pipe.step(first); // the first non-finite step is allowed: zeroed
    expect(Array.from(first.w)).toEqual([0, 1]);
    const stateBefore = pipe.state;
    // A NaN with a payload and both infinities: zeroing would have changed every one of them.
    const w = new Float32Array([NaN, 2, Infinity, -Infinity]);
    new Uint32Array(w.buffer)[0] = 0x7fc00abc;
    refusesUntouched(
      pipe,
      { w, v: new Float32Array([7]) },
      {},
      /^nanGuard: 2 consecutive steps with non-finite gradients exceed maxConsecutive 1/,
      [['w', w]],
      'nanGuard',
    );
    expect(new Uint32Array(w.buffer)[0]).toBe(0x7fc00abc);
    expect(pipe.state).toEqual(stateBefore);
  });

  it('maxConsecutive: 0 refuses the very first non-finite step, nothing zeroed', () => {
    const w = new Float32Array([1, NaN, 3]);
    refusesUntouched(
      new GradientPipeline([nanGuard({ policy: 'zero', maxConsecutive: 0 })]),
      { w },
      {},
      /^nanGuard: 1 consecutive steps with non-finite gradients exceed maxConsecutive 0/,
      [['w', w]],
      'nanGuard',
    );
  });
});

describe('issue 13, item 3 (core input): clipByValue bounds beyond float32 saturate', () => {
  const finite = () => ({ w: new Float32Array([-FLOAT32_MAX, -1e30, -1, -0, 0, 1e-45, 1, 1e30, FLOAT32_MAX]) });

  it.each([
    [{ min: -2e39, max: -1e39 }, -FLOAT32_MAX],
    [{ min: 1e39, max: 2e39 }, FLOAT32_MAX],
    [{ min: Number.MAX_VALUE, max: Number.MAX_VALUE }, FLOAT32_MAX],
    [{ min: -Number.MAX_VALUE, max: -Number.MAX_VALUE }, -FLOAT32_MAX],
  ])('clipByValue(%o) turns every finite gradient into %s, finite', (bounds, expected) => {
    const { grads } = new GradientPipeline([clipByValue(bounds)]).step(finite());
    for (const v of grads.w!) expect(v).toBe(expected);
  });

  it.each([[{ min: -1e39, max: 1e39 }], [{ min: -Number.MAX_VALUE, max: 2e39 }], [1e39], [Number.MAX_VALUE]])(
    'clipByValue(%o) leaves every finite gradient as it is (the bound is beyond every float32)',
    (options) => {
      const input = finite();
      const { grads, stats } = new GradientPipeline([clipByValue(options)]).step(finite());
      expect(bitsOf(Object.entries(grads))).toEqual(bitsOf(Object.entries(input)));
      expect(stats.clipped).toBe(false);
    },
  );

  it('one bound beyond float32, the other inside: clamps to the inside one, keeps the rest finite', () => {
    const { grads } = new GradientPipeline([clipByValue({ min: -1e39, max: 1 })]).step(finite());
    expect(Array.from(grads.w!)).toEqual([-FLOAT32_MAX, -1e30, -1, -0, 0, Math.fround(1e-45), 1, 1, 1].map(Math.fround));
    const { grads: high } = new GradientPipeline([clipByValue({ min: -1, max: 1e39 })]).step(finite());
    expect(Array.from(high.w!)).toEqual([-1, -1, -1, -0, 0, Math.fround(1e-45), 1, Math.fround(1e30), FLOAT32_MAX]);
  });
});

describe('issue 13, item 3 (core input): error messages print bigints as 1n', () => {
  it.each([
    [
      'clipByGlobalNorm({ maxNorm: 1n })',
      () => clipByGlobalNorm({ maxNorm: unsafe(1n) }),
      "clipByGlobalNorm: maxNorm must be a positive number or Infinity ('inf'), got 1n",
    ],
    [
      'clipByNorm({ maxNorm: 1, normType: 2n })',
      () => clipByNorm({ maxNorm: 1, normType: unsafe(2n) }),
      "clipByNorm: normType must be a number >= 0.1 or Infinity ('inf'), got 2n",
    ],
    ['clipByValue(3n)', () => clipByValue(unsafe(3n)), 'clipByValue: expects a positive number c or { min, max }, got 3n'],
    [
      'clipByValue({ min: -1n, max: 1 })',
      () => clipByValue({ min: unsafe(-1n), max: 1 }),
      'clipByValue: min must be a finite number, got -1n',
    ],
    [
      'nanGuard({ maxConsecutive: 5n })',
      () => nanGuard({ maxConsecutive: unsafe(5n) }),
      'nanGuard: maxConsecutive must be an integer >= 0, got 5n',
    ],
    ['agc({ clipping: 0n })', () => agc({ clipping: unsafe(0n) }), 'agc: clipping must be a positive finite number, got 0n'],
    [
      'step({}, { lr: 1n })',
      () => new GradientPipeline([]).step({}, { lr: unsafe(1n) }),
      'GradientPipeline.step: lr must be a finite number >= 0, got 1n',
    ],
  ])('%s is refused with the bigint shown as a bigint', (_label, f, message) => {
    let error: unknown;
    try {
      f();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradpipeError);
    expect((error as Error).message).toBe(message);
  });

  it('a BigInt64Array gradient is refused, its type named', () => {
    const big = new BigInt64Array([1n]);
    const w = new Float32Array([3, 4]);
    refusesUntouched(clipping(), { w, big }, {}, 'GradientPipeline.step: gradient "big" must be a Float32Array, got BigInt64Array(1)', [
      ['w', w],
    ]);
  });
});
