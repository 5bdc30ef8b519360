/**
 * Hostile input: the rules of issue 13 that this suite found broken when it was written (each describe names what
 * used to happen, and the comment the repro). src keeps them now; these tests hold it to them.
 */

import {
  adaptiveClip,
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  clipFactor,
  cosineDecay,
  exponentialDecay,
  GradientAccumulator,
  GradientPipeline,
  GradpipeError,
  linearWarmup,
  nanGuard,
  normAbove,
  normOf,
  oneCycle,
  type PipelineJson,
  polynomialDecay,
  scheduleFromJSON,
  stepDecay,
  typedArrayOps,
  unitLayout,
} from '@gradpipe/core';
import { describe, expect, it } from 'vitest';

const unsafe = <T>(v: unknown) => v as T;

/** `f` throws a GradpipeError named `fn` (the rule every case below asserts). */
function expectRefused(f: () => unknown, fn: string): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GradpipeError);
  expect((error as GradpipeError).fn).toBe(fn);
}

/** The bits of every array, to compare before and after a step. */
const bitsOf = (grads: Record<string, Float32Array>) =>
  Object.values(grads).map((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));

describe('was a gap: null is taken as "use the default" instead of being refused', () => {
  // Repro: adaptiveClip({ method: 'percentile', percentile: null }).config.percentile === 10.
  it('adaptiveClip: percentile, alpha, zThreshold, warmupSteps, eps, clipOption, clipFactor, skipUpdateOnSpike: null', () => {
    expectRefused(() => adaptiveClip({ method: 'percentile', percentile: unsafe(null) }), 'adaptiveClip');
    for (const key of ['alpha', 'zThreshold', 'warmupSteps', 'eps', 'clipOption', 'clipFactor', 'skipUpdateOnSpike']) {
      expectRefused(() => adaptiveClip(unsafe({ method: 'zscore', [key]: null })), 'adaptiveClip');
    }
  });

  it('agc: clipping, eps, exclude: null', () => {
    for (const key of ['clipping', 'eps', 'exclude']) expectRefused(() => agc(unsafe({ [key]: null })), 'agc');
  });

  it('nanGuard: policy: null', () => {
    expectRefused(() => nanGuard({ policy: unsafe(null) }), 'nanGuard');
  });

  it('GradientAccumulator: reduction: null', () => {
    expectRefused(() => new GradientAccumulator({ every: 2, reduction: unsafe(null) }), 'GradientAccumulator');
  });

  it('schedules: cosineDecay warmupSteps/init/floor, linearWarmup init, stepDecay gamma, exponentialDecay transitionSteps/staircase, polynomialDecay end/power, oneCycle pctStart/divFactor/finalDivFactor/anneal/threePhase: null', () => {
    const cases: [string, (o: Record<string, unknown>) => unknown, Record<string, unknown>, string[]][] = [
      ['cosineDecay', (o) => cosineDecay(unsafe(o)), { peak: 1, decaySteps: 10 }, ['warmupSteps', 'init', 'floor']],
      ['linearWarmup', (o) => linearWarmup(unsafe(o)), { peak: 1, warmupSteps: 10 }, ['init']],
      ['stepDecay', (o) => stepDecay(unsafe(o)), { init: 1, stepSize: 2 }, ['gamma']],
      ['exponentialDecay', (o) => exponentialDecay(unsafe(o)), { init: 1, gamma: 0.5 }, ['transitionSteps', 'staircase']],
      ['polynomialDecay', (o) => polynomialDecay(unsafe(o)), { init: 1, decaySteps: 10 }, ['end', 'power']],
      [
        'oneCycle',
        (o) => oneCycle(unsafe(o)),
        { maxLr: 1, totalSteps: 10 },
        ['pctStart', 'divFactor', 'finalDivFactor', 'anneal', 'threePhase'],
      ],
    ];
    for (const [fn, make, valid, keys] of cases) for (const key of keys) expectRefused(() => make({ ...valid, [key]: null }), fn);
  });
});

describe('was a gap: a value of the wrong type is read as false', () => {
  // Repro: exponentialDecay({ init: 1, gamma: 0.5, staircase: 'yes' }).config.staircase === false.
  it("exponentialDecay staircase: 'yes' and oneCycle threePhase: 'yes' are refused", () => {
    expectRefused(() => exponentialDecay({ init: 1, gamma: 0.5, staircase: unsafe('yes') }), 'exponentialDecay');
    expectRefused(() => oneCycle({ maxLr: 1, totalSteps: 10, threePhase: unsafe(1) }), 'oneCycle');
  });
});

describe('was a gap: normAbove(limit) checks nothing', () => {
  // Repro: normAbove(NaN) lets every event through (!(normBefore <= NaN)); normAbove('x') too.
  it('normAbove refuses a limit that is not a number (NaN, "x", null, undefined, {})', () => {
    for (const limit of [NaN, 'x', null, undefined, {}]) expectRefused(() => normAbove(unsafe(limit)), 'normAbove');
  });
});

describe('was a gap: GradientAccumulator takes what the pipeline refuses', () => {
  // Repro: new GradientAccumulator({ every: 1 }).add(new Map([['w', new Float32Array(1)]])) returns {}.
  it('add refuses a Map or an array of gradients (the pipeline does: "grads must be a plain object")', () => {
    expectRefused(
      () => new GradientAccumulator({ every: 1 }).add(unsafe(new Map([['w', new Float32Array([1])]]))),
      'GradientAccumulator.add',
    );
    expectRefused(() => new GradientAccumulator({ every: 1 }).add(unsafe([new Float32Array([1])])), 'GradientAccumulator.add');
  });

  it('fromJSON refuses unknown fields, a missing reduction, sums that are an array — as GradientAccumulator.fromJSON', () => {
    const valid = { format: 'gradpipe.accumulator', version: 1, every: 2, reduction: 'mean', pending: 0, sums: {} };
    expect(() => GradientAccumulator.fromJSON(unsafe(valid))).not.toThrow();
    expectRefused(() => GradientAccumulator.fromJSON(unsafe({ ...valid, extra: 1 })), 'GradientAccumulator.fromJSON');
    const { reduction: _r, ...withoutReduction } = valid;
    expectRefused(() => GradientAccumulator.fromJSON(unsafe(withoutReduction)), 'GradientAccumulator.fromJSON');
    expectRefused(() => GradientAccumulator.fromJSON(unsafe({ ...valid, sums: [] })), 'GradientAccumulator.fromJSON');
    // Today: "GradientAccumulator: every must be …", named after the constructor.
    expectRefused(() => GradientAccumulator.fromJSON(unsafe({ ...valid, every: '2' })), 'GradientAccumulator.fromJSON');
  });
});

describe('was a gap: scheduleFromJSON', () => {
  // Repro: scheduleFromJSON({ kind: 'chainSchedules', config: {} }) → TypeError "Cannot read properties of undefined (reading 'map')".
  it('a chainSchedules config without schedules is a GradpipeError, not a TypeError', () => {
    expectRefused(() => scheduleFromJSON(unsafe({ kind: 'chainSchedules', config: {} })), 'scheduleFromJSON');
  });

  it('unknown keys in a constant or chainSchedules config, and unknown fields of the JSON, are refused', () => {
    expect(() => scheduleFromJSON(unsafe({ kind: 'constant', config: { value: 1, extra: 2 } }))).toThrow(GradpipeError);
    expect(() =>
      scheduleFromJSON(
        unsafe({ kind: 'chainSchedules', config: { schedules: [{ kind: 'constant', config: { value: 1 } }], boundaries: [], extra: 1 } }),
      ),
    ).toThrow(GradpipeError);
    expect(() => scheduleFromJSON(unsafe({ kind: 'constant', config: { value: 1 }, extra: 2 }))).toThrow(GradpipeError);
  });
});

describe('was a gap: a corrupt saved config is refused under the factory’s name, not GradientPipeline.fromJSON', () => {
  // Repro: fromJSON of a save whose clipByGlobalNorm config has maxNorm -3 throws "clipByGlobalNorm: maxNorm must be …".
  it('every refusal of fromJSON starts "GradientPipeline.fromJSON:" (issue 13 item 2), the config’s too', () => {
    const json = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).toJSON();
    json.transforms[0]!.config.maxNorm = -3;
    expectRefused(() => GradientPipeline.fromJSON(json), 'GradientPipeline.fromJSON');
  });
});

describe('was a gap: a refusal after a transform that changed the arrays in place', () => {
  // Repro: new GradientPipeline([clipByValue(1), nanGuard({ policy: 'throw' })]).step({ w: Float32Array.of(NaN, 5) })
  // throws, and w is [NaN, 1] afterwards. The rule: the caller's arrays are bit-identical after any refusal.
  const cases: [string, () => GradientPipeline, Record<string, Float32Array>, { params?: Record<string, Float32Array> }][] = [
    [
      "[clipByValue(1), nanGuard({ policy: 'throw' })]",
      () => new GradientPipeline([clipByValue(1), nanGuard({ policy: 'throw' })]),
      { w: Float32Array.of(NaN, 5) },
      {},
    ],
    [
      "[clipByValue(1), nanGuard({ policy: 'zero', maxConsecutive: 0 })]",
      () => new GradientPipeline([clipByValue(1), nanGuard({ policy: 'zero', maxConsecutive: 0 })]),
      { w: Float32Array.of(NaN, 5) },
      {},
    ],
    [
      '[clipByValue(1), clipByGlobalNorm({ maxNorm: 1, errorIfNonfinite: true })]',
      () => new GradientPipeline([clipByValue(1), clipByGlobalNorm({ maxNorm: 1, errorIfNonfinite: true })]),
      { w: Float32Array.of(NaN, 5) },
      {},
    ],
    [
      "[clipByNorm({ maxNorm: 1 }), nanGuard({ policy: 'throw' })]",
      () => new GradientPipeline([clipByNorm({ maxNorm: 1 }), nanGuard({ policy: 'throw' })]),
      { a: Float32Array.of(NaN), b: Float32Array.of(5) },
      {},
    ],
    [
      '[clipByNorm({ maxNorm: 1 }), clipByNorm({ maxNorm: 1, errorIfNonfinite: true })]',
      () => new GradientPipeline([clipByNorm({ maxNorm: 1 }), clipByNorm({ maxNorm: 1, errorIfNonfinite: true })]),
      { b: Float32Array.of(5), a: Float32Array.of(NaN) },
      {},
    ],
    [
      "[agc(), nanGuard({ policy: 'throw' })]",
      () => new GradientPipeline([agc(), nanGuard({ policy: 'throw' })]),
      { b: Float32Array.of(5), a: Float32Array.of(NaN) },
      { params: { b: Float32Array.of(1), a: Float32Array.of(1) } },
    ],
  ];
  it.each(cases)('%s: refused, and the arrays are as they were', (_label, pipe, grads, options) => {
    const before = bitsOf(grads);
    expect(() => pipe().step(grads, options)).toThrow(GradpipeError);
    expect(bitsOf(grads)).toEqual(before);
  });
});

describe('was a gap: a quasi-norm of a very small p overflows float64', () => {
  // Repro: clipByGlobalNorm({ maxNorm: 1, normType: 0.001 }) on { w: [1, 1, 1] }: (Σ|x|^p)^(1/p) = 3^1000 is beyond
  // float64, the norm figure was Infinity, and nothing was clipped. The rule now: p ≥ 0.1, where any float32
  // gradients of up to 2^32 elements have a finite norm ((2^32 · 3.4e38^0.1)^10 ≈ 1e134).
  it('normType below 0.1 is refused, naming the option and the value', () => {
    for (const normType of [0.001, 0.05, 0.0999]) {
      expectRefused(() => clipByGlobalNorm({ maxNorm: 1, normType }), 'clipByGlobalNorm');
      expect(() => clipByNorm({ maxNorm: 1, normType })).toThrow(new RegExp(`normType.*${normType}`));
    }
  });

  it('normType 0.1 on finite gradients: a finite norm, clipped under the bound, and errorIfNonfinite does not refuse it', () => {
    const grads = { w: new Float32Array(1000).fill(3e38) };
    const { stats } = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, normType: 0.1 })]).step(grads);
    expect(Number.isFinite(stats.transforms[0]!.figures.norm!)).toBe(true);
    expect(stats.clipped).toBe(true);
    expect(normOf(grads.w, 0.1)).toBeLessThanOrEqual(1);
    expect(() =>
      new GradientPipeline([clipByNorm({ maxNorm: 1, normType: 0.1, errorIfNonfinite: true })]).step({ w: Float32Array.of(1, 1, 1) }),
    ).not.toThrow();
  });
});

describe('was a gap: fromJSON accepts a state after which the pipeline cannot be saved and resumed again', () => {
  // Repro: a ZClip state with mean 1e300 (no float32 gradients have such a norm) was accepted; the next step's
  // variance update overflowed to Infinity, which JSON saves as null, and fromJSON refused that save. The rule now:
  // saved norms are bounded (2^160, far above any float32 gradients' norm) and the step counter by 2^52.
  it('ZClip mean 1e300 and a step counter of 2^53 − 1 are refused; at the bounds, one step later, toJSON → fromJSON still works', () => {
    const zclip = new GradientPipeline([adaptiveClip({ method: 'zscore', warmupSteps: 1 })]);
    zclip.step({ w: Float32Array.of(1) });
    const json = JSON.parse(JSON.stringify(zclip)) as PipelineJson;
    (json.transforms[0]!.state as { mean: number }).mean = 1e300;
    expectRefused(() => GradientPipeline.fromJSON(json), 'GradientPipeline.fromJSON');
    (json.transforms[0]!.state as { mean: number }).mean = 2 ** 150;
    const resumed = GradientPipeline.fromJSON(json);
    resumed.step({ w: Float32Array.of(1) });
    expect(() => GradientPipeline.fromJSON(JSON.parse(JSON.stringify(resumed)))).not.toThrow();

    const counter = JSON.parse(JSON.stringify(new GradientPipeline([]))) as PipelineJson;
    counter.step = Number.MAX_SAFE_INTEGER;
    expectRefused(() => GradientPipeline.fromJSON(counter), 'GradientPipeline.fromJSON');
    counter.step = 2 ** 52 - 1;
    const late = GradientPipeline.fromJSON(counter);
    late.step({});
    expect(() => GradientPipeline.fromJSON(JSON.parse(JSON.stringify(late)))).not.toThrow();
  });
});

describe('was a gap: public building blocks check nothing', () => {
  // Repro: clipFactor(typedArrayOps, 5, 1, { element: 3 }) ignores the misspelt key; with null options it throws
  // a TypeError; normOf(x, 0) is NaN; unitLayout([2, 3], 'middle') returns axis 'middle'.
  it('clipFactor refuses unknown option keys and null options', () => {
    expectRefused(() => clipFactor(typedArrayOps, 5, 1, unsafe({ element: 3 })), 'clipFactor');
    expectRefused(() => clipFactor(typedArrayOps, 5, 1, unsafe(null)), 'clipFactor');
  });

  it('normOf refuses a p that is not > 0', () => {
    for (const p of [0, -1, NaN, 'x']) expectRefused(() => normOf(Float32Array.of(1, 2), unsafe(p)), 'normOf');
  });

  it("unitLayout refuses an axis other than 'first' / 'last'", () => {
    expectRefused(() => unitLayout([2, 3], unsafe('middle')), 'unitLayout');
  });

  it('adaptiveClip refuses options that are not a plain object, as every other transform does', () => {
    class Options {
      method = 'zscore';
    }
    expectRefused(() => adaptiveClip(unsafe(new Options())), 'adaptiveClip');
  });
});
