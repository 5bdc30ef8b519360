/**
 * Promise: bad input gets a GradpipeError whose message names the public function and the bad value, and the
 * caller's arrays are left exactly as they were.
 */

import {
  adaptiveClip,
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  everyNthStep,
  GradientPipeline,
  GradpipeError,
  nanGuard,
  type PipelineJson,
} from '@gradpipe/core';
import { describe, expect, it } from 'vitest';
import { copyGrads, sameGradBits } from './support/arbitraries.js';

/** Calls `f`, expecting a GradpipeError with exactly `message` (a string) or matching it (a RegExp). */
function expectRefusal(f: () => unknown, message: string | RegExp, fn?: string): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GradpipeError);
  const m = (error as GradpipeError).message;
  if (typeof message === 'string') expect(m).toBe(message);
  else expect(m).toMatch(message);
  if (fn) expect((error as GradpipeError).fn).toBe(fn);
}

const unsafe = <T>(v: unknown) => v as T; // hands a value past the type checker, as plain JavaScript would

describe('options of the transforms', () => {
  it.each([
    [-1, '-1'],
    [0, '0'],
    [NaN, 'NaN'],
    [-Infinity, '-Infinity'],
    ['1', '"1"'],
    [1n, '1n'],
    [undefined, 'undefined'],
    [null, 'null'],
  ])('maxNorm %s is refused by clipByGlobalNorm, clipByNorm and adaptiveClip', (value, shown) => {
    expectRefusal(
      () => clipByGlobalNorm({ maxNorm: unsafe(value) }),
      `clipByGlobalNorm: maxNorm must be a positive number or Infinity ('inf'), got ${shown}`,
      'clipByGlobalNorm',
    );
    expectRefusal(
      () => clipByNorm({ maxNorm: unsafe(value) }),
      `clipByNorm: maxNorm must be a positive number or Infinity ('inf'), got ${shown}`,
      'clipByNorm',
    );
    if (value !== undefined) {
      expectRefusal(
        () => adaptiveClip({ method: 'zscore', maxNorm: unsafe(value) }),
        // maxNorm is optional in adaptiveClip: null is refused as every optional option's null is.
        value === null
          ? 'adaptiveClip: maxNorm must not be null (leave it out for its default)'
          : `adaptiveClip: maxNorm must be a positive number or Infinity ('inf'), got ${shown}`,
        'adaptiveClip',
      );
    }
  });

  it('a normType below 0.1, or not a number', () => {
    expectRefusal(
      () => clipByGlobalNorm({ maxNorm: 1, normType: 0 }),
      "clipByGlobalNorm: normType must be a number >= 0.1 or Infinity ('inf'), got 0",
    );
    expectRefusal(
      () => clipByGlobalNorm({ maxNorm: 1, normType: -2 }),
      "clipByGlobalNorm: normType must be a number >= 0.1 or Infinity ('inf'), got -2",
    );
    expectRefusal(
      () => clipByNorm({ maxNorm: 1, normType: unsafe('two') }),
      `clipByNorm: normType must be a number >= 0.1 or Infinity ('inf'), got "two"`,
    );
    expectRefusal(
      () => clipByGlobalNorm({ maxNorm: 1, normType: NaN }),
      "clipByGlobalNorm: normType must be a number >= 0.1 or Infinity ('inf'), got NaN",
    );
  });

  it('clipByValue: min > max, a non-finite bound, a non-positive c', () => {
    expectRefusal(() => clipByValue({ min: 2, max: 1 }), 'clipByValue: min must be <= max, got min 2 > max 1', 'clipByValue');
    expectRefusal(() => clipByValue({ min: NaN, max: 1 }), 'clipByValue: min must be a finite number, got NaN');
    expectRefusal(() => clipByValue({ min: -1, max: Infinity }), 'clipByValue: max must be a finite number, got Infinity');
    expectRefusal(() => clipByValue(0), 'clipByValue: the bound c must be a positive finite number, got 0');
    expectRefusal(() => clipByValue(-0.5), 'clipByValue: the bound c must be a positive finite number, got -0.5');
    expectRefusal(() => clipByValue(unsafe('1')), 'clipByValue: expects a positive number c or { min, max }, got "1"');
  });

  it('nanGuard: an unknown policy, a bad maxConsecutive', () => {
    expectRefusal(
      () => nanGuard({ policy: unsafe('ignore') }),
      `nanGuard: policy must be one of 'skip', 'zero', 'throw', got "ignore"`,
      'nanGuard',
    );
    expectRefusal(() => nanGuard({ maxConsecutive: -1 }), 'nanGuard: maxConsecutive must be an integer >= 0, got -1');
    expectRefusal(() => nanGuard({ maxConsecutive: 1.5 }), 'nanGuard: maxConsecutive must be an integer >= 0, got 1.5');
  });

  it('adaptiveClip: an unknown method, a percentile outside [0, 100], a window below 1, alpha outside [0, 1)', () => {
    expectRefusal(() => adaptiveClip(unsafe({ method: 'median' })), `adaptiveClip: method must be 'percentile' or 'zscore', got "median"`);
    expectRefusal(
      () => adaptiveClip({ method: 'percentile', percentile: 101 }),
      'adaptiveClip: percentile must be a number in [0, 100], got 101',
    );
    expectRefusal(() => adaptiveClip({ method: 'percentile', window: 0 }), 'adaptiveClip: window must be an integer >= 1, got 0');
    expectRefusal(() => adaptiveClip({ method: 'zscore', alpha: 1 }), 'adaptiveClip: alpha must be a number in [0, 1), got 1');
    expectRefusal(() => adaptiveClip({ method: 'zscore', warmupSteps: 0 }), 'adaptiveClip: warmupSteps must be an integer >= 1, got 0');
  });

  it('agc: a non-positive clipping, an unknown unit axis', () => {
    expectRefusal(() => agc({ clipping: 0 }), 'agc: clipping must be a positive finite number, got 0', 'agc');
    expectRefusal(() => agc({ unitAxis: unsafe('middle') }), `agc: unitAxis must be 'first' or 'last', got "middle"`);
    expectRefusal(() => agc({ exclude: unsafe('head') }), 'agc: exclude must be an array of tensor names, got "head"');
  });

  it('an unknown (e.g. misspelt) option key is refused, not ignored', () => {
    expectRefusal(
      () => clipByGlobalNorm(unsafe({ maxNorm: 1, max_norm: 2 })),
      /^clipByGlobalNorm: unknown option "max_norm" \(did you mean "maxNorm"\? known: maxNorm, normType/,
    );
    expectRefusal(
      () => clipByNorm(unsafe({ maxNorm: 1, norm_type: 2 })),
      'clipByNorm: unknown option "norm_type" (did you mean "normType"? known: maxNorm, normType, errorIfNonfinite)',
    );
    expectRefusal(() => clipByValue(unsafe({ min: -1, max: 1, clip: 2 })), 'clipByValue: unknown option "clip" (known: min, max)');
    expectRefusal(
      () => nanGuard(unsafe({ polcy: 'zero' })),
      'nanGuard: unknown option "polcy" (did you mean "policy"? known: policy, maxConsecutive)',
    );
    expectRefusal(
      () => adaptiveClip(unsafe({ method: 'percentile', percentil: 5 })),
      'adaptiveClip: unknown option "percentil" (did you mean "percentile"? known: method, percentile, window)',
    );
    expectRefusal(() => agc(unsafe({ lambda: 0.01 })), 'agc: unknown option "lambda" (known: clipping, eps, unitAxis, exclude, axes)');
  });

  it('options that are not an object', () => {
    expectRefusal(() => clipByGlobalNorm(unsafe(1)), 'clipByGlobalNorm: options must be a plain object, got 1');
    expectRefusal(() => nanGuard(unsafe(null)), 'nanGuard: options must be a plain object, got null');
    expectRefusal(() => nanGuard(unsafe([])), 'nanGuard: options must be a plain object, got Array(0)');
    expectRefusal(() => agc(unsafe(['w'])), 'agc: options must be a plain object, got Array(1)');
  });

  it('everyNthStep needs an integer n >= 1', () => {
    expectRefusal(() => everyNthStep(0), 'everyNthStep: n must be an integer >= 1, got 0', 'everyNthStep');
    expectRefusal(() => everyNthStep(2.5), 'everyNthStep: n must be an integer >= 1, got 2.5');
  });
});

describe('step input — refused before anything is changed', () => {
  /** Steps with bad input and checks the refusal, then that the caller's gradients and params are untouched. */
  function refusesUntouched(
    pipe: GradientPipeline,
    grads: Record<string, Float32Array>,
    options: Parameters<GradientPipeline['step']>[1],
    message: string,
  ): void {
    const gradsBefore = copyGrads(grads);
    const paramsBefore = options?.params ? copyGrads(options.params) : undefined;
    const stateBefore = pipe.toJSON();
    expectRefusal(() => pipe.step(grads, options), message, 'GradientPipeline.step');
    expect(sameGradBits(grads, gradsBefore)).toBe(true);
    if (paramsBefore) expect(sameGradBits(options!.params!, paramsBefore)).toBe(true);
    expect(pipe.toJSON()).toEqual(stateBefore); // not counted as a step either
  }
  const clipping = () => new GradientPipeline([clipByValue(0.1), clipByGlobalNorm({ maxNorm: 0.01 }), agc()]);
  const grads = () => ({ w: new Float32Array([3, 4, 5, 6]), b: new Float32Array([1, 2]) });
  const params = () => ({ w: new Float32Array([1, 1, 1, 1]), b: new Float32Array([0, 0]) });

  it('gradients that are not Float32Arrays', () => {
    const g = grads();
    refusesUntouched(
      clipping(),
      { ...g, x: unsafe(new Float64Array(2)) },
      { params: { ...params(), x: new Float32Array(2) } },
      'GradientPipeline.step: gradient "x" must be a Float32Array, got Float64Array(2)',
    );
    refusesUntouched(
      clipping(),
      { ...grads(), x: unsafe([1, 2]) },
      { params: params() },
      'GradientPipeline.step: gradient "x" must be a Float32Array, got Array(2)',
    );
    expectRefusal(
      () => clipping().step(unsafe(null)),
      'GradientPipeline.step: grads must be a plain object of named tensors ({ name: tensor }), got null',
    );
    expectRefusal(
      () => clipping().step(unsafe(new Float32Array(3))),
      'GradientPipeline.step: grads must be a plain object of named tensors ({ name: tensor }), got Float32Array(3)',
    );
  });

  it('params whose keys differ from the gradients’', () => {
    const { b: _b, ...onlyW } = params();
    refusesUntouched(
      clipping(),
      grads(),
      { params: onlyW },
      'GradientPipeline.step: params must have the same keys as grads; missing params for "b"',
    );
    refusesUntouched(
      clipping(),
      grads(),
      { params: { ...params(), extra: new Float32Array(1) } },
      'GradientPipeline.step: params must have the same keys as grads; params without gradients: "extra"',
    );
  });

  it('params of the wrong size or type', () => {
    refusesUntouched(
      clipping(),
      grads(),
      { params: { ...params(), b: new Float32Array(3) } },
      'GradientPipeline.step: param "b" has 3 elements but its gradient has 2',
    );
    refusesUntouched(
      clipping(),
      grads(),
      { params: { ...params(), b: unsafe([0, 0]) } },
      'GradientPipeline.step: param "b" must be a Float32Array, got Array(2)',
    );
  });

  it('shapes of the wrong size, for unknown tensors, or not integers', () => {
    refusesUntouched(
      clipping(),
      grads(),
      { params: params(), shapes: { w: [3, 2] } },
      'GradientPipeline.step: shape [3, 2] of "w" has 6 elements but the gradient has 4',
    );
    refusesUntouched(
      clipping(),
      grads(),
      { params: params(), shapes: { v: [2, 2] } },
      'GradientPipeline.step: shapes has "v", which is not a gradient',
    );
    refusesUntouched(
      clipping(),
      grads(),
      { params: params(), shapes: { w: [2, -2] } },
      'GradientPipeline.step: shape of "w" must be an array of non-negative integers, got Array(2)',
    );
  });

  it('a loss that is not a number', () => {
    refusesUntouched(
      clipping(),
      grads(),
      { params: params(), loss: unsafe('0.5') },
      'GradientPipeline.step: loss must be a number, got "0.5"',
    );
  });

  it('agc without params — even after transforms that would already have clipped in place', () => {
    refusesUntouched(clipping(), grads(), {}, 'GradientPipeline.step: agc needs the parameters: call step(grads, { params, shapes })');
  });
});

describe('pipelines and saved JSON', () => {
  it('a pipeline of non-transforms', () => {
    expectRefusal(
      () => new GradientPipeline(unsafe(clipByGlobalNorm({ maxNorm: 1 }))),
      'GradientPipeline: transforms must be an array, got object',
    );
    expectRefusal(
      () => new GradientPipeline(unsafe([clipByGlobalNorm({ maxNorm: 1 }), (g: unknown) => g])),
      'GradientPipeline: transforms[1] is not a gradient transform (needs kind, init, update), got function (anonymous)',
    );
  });

  it('fromJSON of something else, of a newer version, of an unknown kind', () => {
    expectRefusal(
      () => GradientPipeline.fromJSON(unsafe({ transforms: [] })),
      'GradientPipeline.fromJSON: expects the output of GradientPipeline.toJSON() (format "gradpipe.pipeline"), got object',
    );
    const json = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).toJSON();
    expectRefusal(
      () => GradientPipeline.fromJSON(unsafe({ ...json, version: 2 })),
      'GradientPipeline.fromJSON: unsupported version 2 (this gradpipe reads version 1)',
    );
    const custom: PipelineJson = { ...json, transforms: [{ kind: 'scaleBy', config: { factor: 2 }, state: null }] };
    expectRefusal(
      () => GradientPipeline.fromJSON(custom),
      'GradientPipeline.fromJSON: transforms[0] has unknown kind "scaleBy" (known: clipByValue, clipByNorm, clipByGlobalNorm, nanGuard, adaptiveClip, agc): pass its factory in options.transforms',
    );
  });

  it('fromJSON re-checks the saved config (a hand-edited maxNorm is refused like a bad option)', () => {
    const json = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).toJSON();
    json.transforms[0]!.config.maxNorm = -3;
    expectRefusal(
      () => GradientPipeline.fromJSON(json),
      "GradientPipeline.fromJSON: transforms[0] (clipByGlobalNorm) has a corrupt config: clipByGlobalNorm: maxNorm must be a positive number or Infinity ('inf'), got -3",
    );
  });
});
