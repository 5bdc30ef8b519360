/**
 * Issue 13, item 2 (resume). Promise: `GradientPipeline.fromJSON` checks every field of a saved pipeline — the
 * format, version, step counter, tensorNorms, the transforms array and each entry's `{ kind, config, state }`, and
 * every built-in transform's state through its `restoreState` — and refuses a corrupt one with a GradpipeError whose
 * message starts "GradientPipeline.fromJSON:" and names the field; never with a TypeError, never by accepting it
 * silently (of the 32 corrupt states, 18 were accepted, 4 crashed the next step, 2 threw a TypeError).
 *
 * The property over random corruptions is in ../hostile/savedState.test.ts.
 */

import {
  adaptiveClip,
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  GradientPipeline,
  GradpipeError,
  type JsonObject,
  nanGuard,
  type PipelineJson,
} from '@gradpipe/core';
import { describe, expect, it } from 'vitest';

/** Index of each transform in the saved pipeline below. */
const AT = {
  nanGuard: 0,
  clipByValue: 1,
  clipByNorm: 2,
  agc: 3,
  autoClip: 4,
  autoClipWindow: 5,
  zClip: 6,
  zClipWarmup: 7,
  clipByGlobalNorm: 8,
} as const;

/**
 * A pipeline of every built-in transform after five steps, saved: nanGuard has counted a non-finite step (the last),
 * AutoClip has a history (a full one, and a window of 4), one ZClip has its mean and variance, the other is still
 * in warm-up.
 */
function saved(): PipelineJson {
  const pipe = new GradientPipeline([
    nanGuard({ policy: 'zero', maxConsecutive: 5 }),
    clipByValue(10),
    clipByNorm({ maxNorm: 5 }),
    agc({ clipping: 0.5 }),
    adaptiveClip({ method: 'percentile', percentile: 50 }),
    adaptiveClip({ method: 'percentile', percentile: 90, window: 4 }),
    adaptiveClip({ method: 'zscore', warmupSteps: 3 }),
    adaptiveClip({ method: 'zscore', warmupSteps: 10 }),
    clipByGlobalNorm({ maxNorm: 1 }),
  ]);
  for (const [a, b, c] of [
    [1, 2, 3],
    [0.5, -1, 2],
    [4, 0, 1],
    [2, 2, 2],
    [NaN, 1, 1],
  ] as const) {
    pipe.step(
      { w: new Float32Array([a, b]), b: new Float32Array([c]) },
      { params: { w: new Float32Array([1, 2]), b: new Float32Array([1]) } },
    );
  }
  return JSON.parse(JSON.stringify(pipe)) as PipelineJson;
}

type Json = Record<string, any>; // a saved file, edited by hand: any field may be anything
const state = (json: Json, i: number): Json => json.transforms[i].state;

/** Calls fromJSON on a corrupted copy, expecting its refusal: a GradpipeError of fromJSON matching `message`. */
function expectRefused(corrupt: (json: Json) => void, message: RegExp): void {
  const json = saved() as unknown as Json;
  corrupt(json);
  const copy = structuredClone(json);
  let error: unknown;
  try {
    GradientPipeline.fromJSON(json as PipelineJson);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GradpipeError);
  expect((error as GradpipeError).fn).toBe('GradientPipeline.fromJSON');
  expect((error as Error).message.startsWith('GradientPipeline.fromJSON: ')).toBe(true);
  expect((error as Error).message).toMatch(message);
  expect(json).toEqual(copy); // fromJSON reads its input, it does not change it
}

describe('issue 13, item 2 (resume): the fixture itself resumes', () => {
  it('the uncorrupted save is accepted and resumes at step 5 with the same state', () => {
    const json = saved();
    const resumed = GradientPipeline.fromJSON(json);
    expect(resumed.stepCount).toBe(5);
    expect(resumed.toJSON()).toEqual(json);
    expect(state(json, AT.nanGuard)).toEqual({ totalNonFinite: 1, consecutiveNonFinite: 1 });
    expect(state(json, AT.autoClip).sorted).toHaveLength(5);
    expect(state(json, AT.autoClipWindow).sorted).toHaveLength(3);
    expect(state(json, AT.zClip).mean).not.toBeNull();
    expect(state(json, AT.zClipWarmup).warmup).toHaveLength(5);
  });
});

describe('issue 13, item 2 (resume): the pipeline’s own fields', () => {
  it.each<[string, (j: Json) => void, RegExp]>([
    [
      'format missing',
      (j) => delete j.format,
      /expects the output of GradientPipeline\.toJSON\(\) \(format "gradpipe\.pipeline"\), got object$/,
    ],
    ['format "gradpipe.accumulator"', (j) => (j.format = 'gradpipe.accumulator'), /expects the output of GradientPipeline\.toJSON\(\)/],
    ['version 2', (j) => (j.version = 2), /: unsupported version 2 \(this gradpipe reads version 1\)$/],
    ['version "1"', (j) => (j.version = '1'), /: unsupported version "1" /],
    ['step "60"', (j) => (j.step = '60'), /: step must be an integer in \[0, 2\^52\], got "60"$/],
    ['step -1', (j) => (j.step = -1), /: step must be an integer in \[0, 2\^52\], got -1$/],
    ['step 1.5', (j) => (j.step = 1.5), /: step must be an integer in \[0, 2\^52\], got 1\.5$/],
    ['step null', (j) => (j.step = null), /: step must be an integer in \[0, 2\^52\], got null$/],
    ['step NaN', (j) => (j.step = NaN), /: step must be an integer in \[0, 2\^52\], got NaN$/],
    ['step 2^53 (not a safe integer)', (j) => (j.step = 2 ** 53), /: step must be an integer in \[0, 2\^52\], got 9007199254740992$/],
    ['step missing', (j) => delete j.step, /: step must be an integer in \[0, 2\^52\], got undefined$/],
    ['tensorNorms "yes"', (j) => (j.tensorNorms = 'yes'), /: tensorNorms must be true or false, got "yes"$/],
    ['tensorNorms missing', (j) => delete j.tensorNorms, /: tensorNorms must be true or false, got undefined$/],
    ['transforms an object', (j) => (j.transforms = {}), /: transforms must be an array, got object$/],
    ['transforms missing', (j) => delete j.transforms, /: transforms must be an array, got undefined$/],
    [
      'an unknown field (misspelt)',
      (j) => (j.stepCount = 5),
      /: unknown field "stepCount" \(known: format, version, step, tensorNorms, [^)]*\)$/,
    ],
    ['an unknown field close to a known one', (j) => (j.tensorNorm = true), /: unknown field "tensorNorm" \(did you mean "tensorNorms"\?/],
  ])('%s is refused', (_label, corrupt, message) => expectRefused(corrupt, message));

  it('something that is not an object at all is refused', () => {
    for (const json of [null, undefined, 'gradpipe.pipeline', 5, [], new Map()]) {
      expect(() => GradientPipeline.fromJSON(json as unknown as PipelineJson)).toThrow(
        /^GradientPipeline\.fromJSON: expects the output of GradientPipeline\.toJSON\(\)/,
      );
    }
  });
});

describe('issue 13, item 2 (resume): each transform entry is { kind, config, state }, nothing else', () => {
  it.each<[string, (j: Json) => void, RegExp]>([
    ['an entry that is null', (j) => (j.transforms[2] = null), /: transforms\[2\] must be an object \{ kind, config, state \}, got null$/],
    [
      'an entry that is an array',
      (j) => (j.transforms[2] = ['clipByNorm', {}, null]),
      /: transforms\[2\] must be an object \{ kind, config, state \}, got Array\(3\)$/,
    ],
    [
      'an extra key in an entry',
      (j) => (j.transforms[2].name = 'norm'),
      /: unknown field of transforms\[2\] "name" \(known: kind, config, state\)$/,
    ],
    ['a kind that is not a string', (j) => (j.transforms[2].kind = 3), /: transforms\[2\]\.kind must be a string, got 3$/],
    ['a missing kind', (j) => delete j.transforms[2].kind, /: transforms\[2\]\.kind must be a string, got undefined$/],
    ['config null', (j) => (j.transforms[2].config = null), /: transforms\[2\]\.config must be an object, got null$/],
    ['config an array', (j) => (j.transforms[2].config = [5]), /: transforms\[2\]\.config must be an object, got Array\(1\)$/],
    ['config a string', (j) => (j.transforms[2].config = 'maxNorm=5'), /: transforms\[2\]\.config must be an object, got "maxNorm=5"$/],
    ['a missing state', (j) => delete j.transforms[2].state, /: transforms\[2\]\.state must be JSON data, got undefined$/],
    [
      'a NaN inside a state (not JSON)',
      (j) => (state(j, AT.autoClip).sorted[1] = NaN),
      /: transforms\[4\]\.state\.sorted\[1\] must be JSON data, got NaN$/,
    ],
    [
      'an Infinity inside a config (not JSON)',
      (j) => (j.transforms[AT.clipByNorm].config.maxNorm = Infinity),
      /: transforms\[2\]\.config\.maxNorm must be JSON data, got Infinity$/,
    ],
  ])('%s is refused', (_label, corrupt, message) => expectRefused(corrupt, message));

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'kind %s is an unknown kind (own-property lookup), a GradpipeError and not a TypeError',
    (kind) => {
      expectRefused(
        (j) => (j.transforms[0].kind = kind),
        new RegExp(
          `: transforms\\[0\\] has unknown kind "${kind}" \\(known: clipByValue, clipByNorm, clipByGlobalNorm, nanGuard, adaptiveClip, agc[^)]*\\): pass its factory in options\\.transforms$`,
        ),
      );
    },
  );

  it('a custom factory named like an Object.prototype member is found, the prototype’s is not', () => {
    const json = saved() as unknown as Json;
    json.transforms[0].kind = 'toString';
    const made: unknown[] = [];
    const pipe = GradientPipeline.fromJSON(json as PipelineJson, {
      transforms: {
        toString: (config: JsonObject) => {
          made.push(config);
          return nanGuard(config as never);
        },
      },
    });
    expect(made).toEqual([{ policy: 'zero', maxConsecutive: 5 }]);
    expect(pipe.transforms[0]!.kind).toBe('nanGuard');
  });
});

describe('issue 13, item 2 (resume): every built-in transform checks its saved state (restoreState)', () => {
  const corrupt = (i: number, kind: string) =>
    new RegExp(`^GradientPipeline\\.fromJSON: transforms\\[${i}\\] \\(${kind}\\) has a corrupt state: `);

  it.each<[string, unknown, number]>([
    ['clipByValue', {}, AT.clipByValue],
    ['clipByValue', 0, AT.clipByValue],
    ['clipByNorm', [], AT.clipByNorm],
    ['agc', 'x', AT.agc],
    ['clipByGlobalNorm', { sharded: true }, AT.clipByGlobalNorm],
    ['clipByGlobalNorm', false, AT.clipByGlobalNorm],
  ])('stateless %s needs a null state: %j is refused', (kind, value, i) => {
    expectRefused(
      (j) => (j.transforms[i].state = value),
      new RegExp(`${corrupt(i, kind).source}expected null \\(the transform keeps no state\\)`),
    );
  });

  it.each<[string, (s: Json) => void, RegExp]>([
    ['totalNonFinite -1', (s) => (s.totalNonFinite = -1), /totalNonFinite must be an integer >= 0, got -1$/],
    ['totalNonFinite 1.5', (s) => (s.totalNonFinite = 1.5), /totalNonFinite must be an integer >= 0, got 1\.5$/],
    ['totalNonFinite "60"', (s) => (s.totalNonFinite = '60'), /totalNonFinite must be an integer >= 0, got "60"$/],
    ['totalNonFinite null', (s) => (s.totalNonFinite = null), /totalNonFinite must be an integer >= 0, got null$/],
    ['consecutiveNonFinite -1', (s) => (s.consecutiveNonFinite = -1), /consecutiveNonFinite must be an integer >= 0, got -1$/],
    ['consecutiveNonFinite 1e300', (s) => (s.consecutiveNonFinite = 1e300), /consecutiveNonFinite must be an integer >= 0, got 1e\+300$/],
    [
      'consecutive > total',
      (s) => Object.assign(s, { totalNonFinite: 2, consecutiveNonFinite: 3 }),
      /consecutiveNonFinite 3 exceeds totalNonFinite 2$/,
    ],
    [
      'consecutive > maxConsecutive (5)',
      (s) => Object.assign(s, { totalNonFinite: 9, consecutiveNonFinite: 6 }),
      /consecutiveNonFinite 6 already exceeds maxConsecutive 5$/,
    ],
    [
      'a missing counter',
      (s) => delete s.consecutiveNonFinite,
      /expected the fields totalNonFinite, consecutiveNonFinite; missing consecutiveNonFinite$/,
    ],
    ['an extra field', (s) => (s.lastStep = 4), /expected the fields totalNonFinite, consecutiveNonFinite; unknown lastStep$/],
  ])('nanGuard: %s is refused', (_label, edit, message) => {
    expectRefused((j) => edit(state(j, AT.nanGuard)), new RegExp(corrupt(AT.nanGuard, 'nanGuard').source + '.*' + message.source));
  });

  it('nanGuard: a state that is null or an array is refused', () => {
    for (const value of [null, [1, 1]]) expectRefused((j) => (j.transforms[AT.nanGuard].state = value), corrupt(AT.nanGuard, 'nanGuard'));
  });

  it.each<[string, number, (s: Json) => void, RegExp]>([
    [
      'a null in the history (it zeroed the gradients)',
      AT.autoClip,
      (s) => (s.sorted[2] = null),
      /sorted\[2\] must be a number in \[0, \d[^\]]*\], got null$/,
    ],
    ['a negative norm', AT.autoClip, (s) => (s.sorted[0] = -1), /sorted\[0\] must be a number in \[0, \d[^\]]*\], got -1$/],
    ['a norm that is a string', AT.autoClip, (s) => (s.sorted[4] = '1.2'), /sorted\[4\] must be a number in \[0, \d[^\]]*\], got "1\.2"$/],
    ['a history out of order', AT.autoClip, (s) => s.sorted.reverse(), /sorted must be in ascending order$/],
    ['a history that is not an array', AT.autoClip, (s) => (s.sorted = 1.2), /sorted must be an array of norms, got 1\.2$/],
    ['recent norms without a window', AT.autoClip, (s) => (s.recent = [1.2]), /recent holds 1 norms, more than the 0 it can$/],
    [
      'window 4: four norms (at most window − 1 = 3)',
      AT.autoClipWindow,
      (s) => (s.sorted.push(2), s.recent.push(2)),
      /sorted holds 4 norms, more than the 3 it can$/,
    ],
    [
      'window 4: recent not matching sorted',
      AT.autoClipWindow,
      (s) => (s.recent[0] = 0.5),
      /recent must hold the same norms as sorted \(in arrival order\)$/,
    ],
    ['window 4: recent shorter than sorted', AT.autoClipWindow, (s) => s.recent.pop(), /recent must hold the same norms as sorted/],
    ['a missing field', AT.autoClip, (s) => delete s.recent, /missing recent$/],
  ])('AutoClip: %s is refused', (_label, i, edit, message) => {
    expectRefused((j) => edit(state(j, i)), new RegExp(corrupt(i, 'adaptiveClip').source + '.*' + message.source));
  });

  it.each<[string, number, (s: Json) => void, RegExp]>([
    [
      'a corrupt mean "x" (it made the threshold NaN)',
      AT.zClip,
      (s) => (s.mean = 'x'),
      /mean must be a number in \[0, \d[^\]]*\], got "x"$/,
    ],
    ['a negative mean', AT.zClip, (s) => (s.mean = -1), /mean must be a number in \[0, \d[^\]]*\], got -1$/],
    ['a negative variance', AT.zClip, (s) => (s.variance = -0.5), /variance must be a number in \[0, \d[^\]]*\], got -0\.5$/],
    ['a mean without a variance', AT.zClip, (s) => (s.variance = null), /variance must be a number in \[0, \d[^\]]*\], got null$/],
    ['a variance without a mean', AT.zClip, (s) => (s.mean = null), /mean must be a number in \[0, \d[^\]]*\], got null$/],
    ['warm-up norms once the mean is set', AT.zClip, (s) => (s.warmup = [1]), /warmup must be empty once mean and variance are set$/],
    [
      'warmupSteps (10) warm-up norms',
      AT.zClipWarmup,
      (s) => (s.warmup = Array(10).fill(1)),
      /warmup holds 10 norms, more than the 9 it can$/,
    ],
    ['a null warm-up norm', AT.zClipWarmup, (s) => (s.warmup[3] = null), /warmup\[3\] must be a number in \[0, \d[^\]]*\], got null$/],
    ['an extra field', AT.zClip, (s) => (s.std = 0.1), /unknown std$/],
  ])('ZClip: %s is refused', (_label, i, edit, message) => {
    expectRefused((j) => edit(state(j, i)), new RegExp(corrupt(i, 'adaptiveClip').source + '.*' + message.source));
  });

  it('ZClip: a NaN mean (a JavaScript object, not JSON) is refused as not JSON', () => {
    expectRefused((j) => (state(j, AT.zClip).mean = NaN), /: transforms\[6\]\.state\.mean must be JSON data, got NaN$/);
  });

  it('a state of the other method (percentile ↔ zscore) is refused', () => {
    expectRefused((j) => (j.transforms[AT.zClip].state = state(j, AT.autoClip)), corrupt(AT.zClip, 'adaptiveClip'));
    expectRefused((j) => (j.transforms[AT.autoClip].state = state(j, AT.zClip)), corrupt(AT.autoClip, 'adaptiveClip'));
  });

  it('a config edited so that the state no longer fits it (a smaller window) is refused', () => {
    expectRefused(
      (j) => (j.transforms[AT.autoClipWindow].config.window = 2),
      /transforms\[5\] \(adaptiveClip\) has a corrupt state: sorted holds 3 norms, more than the 1 it can$/,
    );
    expectRefused(
      (j) => (j.transforms[AT.zClipWarmup].config.warmupSteps = 4),
      /transforms\[7\] \(adaptiveClip\) has a corrupt state: warmup holds 5 norms, more than the 3 it can$/,
    );
    expectRefused(
      (j) => (j.transforms[AT.nanGuard].config.maxConsecutive = 0),
      /transforms\[0\] \(nanGuard\) has a corrupt state: consecutiveNonFinite 1 already exceeds maxConsecutive 0$/,
    );
  });
});

describe('issue 13, item 2 (resume): a saved config is checked as the factory checks options', () => {
  // Its refusal is the factory's own GradpipeError (it names the transform); see ../hostile/knownGaps.test.ts for
  // the "GradientPipeline.fromJSON:" prefix the issue asks of every refusal.
  it.each<[string, (j: Json) => void, RegExp]>([
    [
      'clipByGlobalNorm maxNorm -3',
      (j) => (j.transforms[AT.clipByGlobalNorm].config.maxNorm = -3),
      /clipByGlobalNorm: maxNorm must be a positive number or Infinity \('inf'\), got -3/,
    ],
    [
      'clipByNorm normType "2"',
      (j) => (j.transforms[AT.clipByNorm].config.normType = '2'),
      /clipByNorm: normType must be a number >= 0\.1 or Infinity \('inf'\), got "2"/,
    ],
    ['an unknown config key', (j) => (j.transforms[AT.agc].config.lambda = 0.1), /agc: unknown option "lambda"/],
    [
      'AutoClip percentile 101',
      (j) => (j.transforms[AT.autoClip].config.percentile = 101),
      /adaptiveClip: percentile must be a number in \[0, 100\], got 101/,
    ],
    ['ZClip alpha 1', (j) => (j.transforms[AT.zClip].config.alpha = 1), /adaptiveClip: alpha must be a number in \[0, 1\), got 1/],
    [
      'nanGuard policy "ignore"',
      (j) => (j.transforms[AT.nanGuard].config.policy = 'ignore'),
      /nanGuard: policy must be one of 'skip', 'zero', 'throw', got "ignore"/,
    ],
    [
      'clipByValue min > max',
      (j) => (j.transforms[AT.clipByValue].config.min = 11),
      /clipByValue: min must be <= max, got min 11 > max 10/,
    ],
    [
      'a sharded clipByGlobalNorm without its reduce',
      (j) => (j.transforms[AT.clipByGlobalNorm].config.sharded = true),
      /clipByGlobalNorm: this transform was saved as sharded and needs its reduce/,
    ],
  ])('%s is refused with a GradpipeError naming the transform', (_label, edit, message) => {
    const json = saved() as unknown as Json;
    edit(json);
    expect(() => GradientPipeline.fromJSON(json as PipelineJson)).toThrow(GradpipeError);
    expect(() => GradientPipeline.fromJSON(json as PipelineJson)).toThrow(message);
  });
});
