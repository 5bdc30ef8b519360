/**
 * Issue 13, item 4 (the option rules). Promise, for every public function of core that takes options (every
 * transform, the GradientPipeline constructor, step options, fromJSON options, the schedules, GradientAccumulator)
 * and those that take one value (constant, everyNthStep, inProcessAllReduce, wasmSimdOps): an unknown (misspelt) key
 * is refused with a "did you mean" hint; `null` or a missing value where one is required is refused; a value outside
 * the option's domain is refused; options that are not a plain object are refused — each with a GradpipeError whose
 * `fn` is the function and whose message starts with it and names the option and the value (bigints as `1n`).
 *
 * One table, one row per function. Where a function breaks these rules today, the row leaves the case out and
 * ../hostile/knownGaps.test.ts has it (reported to the core engineer).
 */

import {
  adaptiveClip,
  agc,
  chainSchedules,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  constant,
  cosineDecay,
  describeValue,
  everyNthStep,
  exponentialDecay,
  GradientAccumulator,
  GradientPipeline,
  GradpipeError,
  inProcessAllReduce,
  linearWarmup,
  nanGuard,
  oneCycle,
  polynomialDecay,
  scheduleFromJSON,
  stepDecay,
  wasmSimdOps,
} from '@gradpipe/core';
import { describe, expect, it } from 'vitest';

type Options = Record<string, unknown>;

/** One public function taking an options object, and what it must accept and refuse. */
interface Row {
  /** The function as its errors name it (GradpipeError.fn). */
  readonly fn: string;
  readonly call: (options: unknown) => unknown;
  /** Options it accepts. */
  readonly valid: Options;
  /** A misspelt key and the known key the hint must suggest. */
  readonly typo: readonly [string, string];
  /** Keys that must be given: leaving one out, or passing null, is refused. */
  readonly required: readonly string[];
  /** Optional keys whose `null` is refused (null is a value, not "use the default"). */
  readonly nullRefused: readonly string[];
  /** Values outside an option's domain. The message must name the option and show the value. */
  readonly outOfDomain: readonly (readonly [string, unknown])[];
  /** Combinations refused although each value is valid alone: [options added to `valid`, message]. */
  readonly combinations?: readonly (readonly [Options, RegExp])[];
  /** Non-object options that are a valid call of their own (clipByValue(c)). */
  readonly notOptions?: readonly unknown[];
}

const NOT_NUMBERS = ['1', 1n, true, {}, [1]] as const;
const NON_FINITE = [NaN, Infinity, -Infinity] as const;
const grads = () => ({ w: new Float32Array([3, 4]), b: new Float32Array([1]) });
const savedPipeline = () => new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).toJSON();
const each = (key: string, values: readonly unknown[]) => values.map((v) => [key, v] as const);

const ROWS: readonly Row[] = [
  {
    fn: 'clipByValue',
    call: (o) => clipByValue(o as never),
    valid: { min: -1, max: 1 },
    typo: ['mx', 'max'],
    required: ['min', 'max'],
    nullRefused: [],
    outOfDomain: [...each('min', [...NON_FINITE, ...NOT_NUMBERS]), ...each('max', [...NON_FINITE, ...NOT_NUMBERS])],
    combinations: [[{ min: 2, max: 1 }, /^clipByValue: min must be <= max, got min 2 > max 1$/]],
    notOptions: [0.5],
  },
  {
    fn: 'clipByNorm',
    call: (o) => clipByNorm(o as never),
    valid: { maxNorm: 1 },
    typo: ['maxnorm', 'maxNorm'],
    required: ['maxNorm'],
    nullRefused: ['normType', 'errorIfNonfinite'],
    outOfDomain: [
      ...each('maxNorm', [0, -1, -0, NaN, -Infinity, 'Infinity', ...NOT_NUMBERS]),
      ...each('normType', [0, -1, NaN, -Infinity, '2', 2n]),
      ...each('errorIfNonfinite', ['yes', 1, 0]),
    ],
  },
  {
    fn: 'clipByGlobalNorm',
    call: (o) => clipByGlobalNorm(o as never),
    valid: { maxNorm: 1 },
    typo: ['normtype', 'normType'],
    required: ['maxNorm'],
    nullRefused: ['normType', 'errorIfNonfinite', 'reduce', 'sharded'],
    outOfDomain: [
      ...each('maxNorm', [0, -1, NaN, -Infinity, 'inf ', ...NOT_NUMBERS]),
      ...each('normType', [0, -0.5, NaN, 'two']),
      ...each('errorIfNonfinite', ['true']),
      ...each('reduce', ['allReduce', {}]),
      ...each('sharded', [false, 'yes']),
    ],
    combinations: [[{ sharded: true }, /^clipByGlobalNorm: this transform was saved as sharded and needs its reduce/]],
  },
  {
    fn: 'nanGuard',
    call: (o) => nanGuard(o as never),
    valid: { policy: 'zero', maxConsecutive: 3 },
    typo: ['polcy', 'policy'],
    required: [],
    nullRefused: ['maxConsecutive'],
    outOfDomain: [...each('policy', ['ignore', 'Skip', 1]), ...each('maxConsecutive', [-1, 1.5, Infinity, NaN, '2', 2n])],
  },
  {
    fn: 'adaptiveClip',
    call: (o) => adaptiveClip(o as never),
    valid: { method: 'percentile', percentile: 10, window: 100 },
    typo: ['percentil', 'percentile'],
    required: ['method'],
    nullRefused: ['window'],
    outOfDomain: [
      ...each('method', ['median', 'Percentile']),
      ...each('percentile', [-1, 100.5, NaN, '10', 10n]),
      ...each('window', [0, 1.5, -1, Infinity, '5']),
    ],
  },
  {
    fn: 'adaptiveClip',
    call: (o) => adaptiveClip(o as never),
    valid: {
      method: 'zscore',
      alpha: 0.97,
      zThreshold: 2.5,
      warmupSteps: 25,
      maxNorm: 10,
      eps: 1e-6,
      clipFactor: 0.9,
      skipUpdateOnSpike: true,
    },
    typo: ['zThresh', 'zThreshold'],
    required: ['method'],
    nullRefused: ['maxNorm'],
    outOfDomain: [
      ...each('alpha', [1, -0.1, NaN, '0.9']),
      ...each('zThreshold', [0, -1, Infinity, NaN]),
      ...each('warmupSteps', [0, 1.5, Infinity]),
      ...each('maxNorm', [0, -1, NaN]),
      ...each('eps', [-1, Infinity, NaN]),
      ...each('clipOption', ['adaptive_scaling', 'max']),
      ...each('clipFactor', [0, -1, Infinity, NaN]),
      ...each('skipUpdateOnSpike', ['yes', 1]),
    ],
    combinations: [
      [
        { clipOption: 'mean', clipFactor: 0.5 },
        /^adaptiveClip: clipFactor scales the 'adaptiveScaling' threshold only, but clipOption is 'mean'$/,
      ],
    ],
  },
  {
    fn: 'agc',
    call: (o) => agc(o as never),
    valid: { clipping: 0.01, eps: 1e-3, exclude: ['head'] },
    typo: ['cliping', 'clipping'],
    required: [],
    nullRefused: ['unitAxis', 'axes'],
    outOfDomain: [
      ...each('clipping', [0, -1, NaN, Infinity, '0.01']),
      ...each('eps', [0, -1e-3]),
      ...each('unitAxis', ['middle', 0]),
      ...each('exclude', ['head', [1]]),
      ...each('axes', [[], [0, 0], [1.5], 0]),
    ],
    combinations: [[{ axes: [0], unitAxis: 'first' }, /^agc: give axes or unitAxis, not both/]],
  },
  {
    fn: 'GradientPipeline',
    call: (o) => new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })], o as never),
    valid: { tensorNorms: true, onSubscriberError: () => {} },
    typo: ['tensorNorm', 'tensorNorms'],
    required: [],
    nullRefused: ['tensorNorms', 'onSubscriberError'],
    outOfDomain: [...each('tensorNorms', ['yes', 1]), ...each('onSubscriberError', ['log', {}])],
  },
  {
    fn: 'GradientPipeline.step',
    call: (o) => new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step(grads(), o as never),
    valid: { lr: 0.1, loss: 2, params: { w: new Float32Array(2), b: new Float32Array(1) }, shapes: { w: [2] } },
    typo: ['shape', 'shapes'],
    required: [],
    nullRefused: ['params', 'shapes', 'loss', 'lr'],
    outOfDomain: [
      ...each('lr', [-1, NaN, Infinity, '0.1', 1n]),
      ...each('loss', ['0.5', {}, 1n]),
      ...each('params', [[], new Map()]),
      ...each('shapes', [[], new Map()]),
    ],
  },
  {
    fn: 'GradientPipeline.fromJSON',
    call: (o) => GradientPipeline.fromJSON(savedPipeline(), o as never),
    valid: { tensorNorms: true, transforms: {} },
    typo: ['transform', 'transforms'],
    required: [],
    nullRefused: ['transforms', 'tensorNorms', 'onSubscriberError'],
    outOfDomain: [...each('transforms', [[], 'x']), ...each('tensorNorms', ['yes']), ...each('onSubscriberError', ['log'])],
    combinations: [[{ transforms: { scaleBy: 2 } }, /^GradientPipeline\.fromJSON: transforms\.scaleBy must be a factory function/]],
  },
  {
    fn: 'GradientAccumulator',
    call: (o) => new GradientAccumulator(o as never),
    valid: { every: 2, reduction: 'sum' },
    typo: ['evry', 'every'],
    required: ['every'],
    nullRefused: [],
    outOfDomain: [...each('every', [0, -1, 1.5, Infinity, '2', 2n]), ...each('reduction', ['max', 'Mean', 1])],
  },
  {
    fn: 'linearWarmup',
    call: (o) => linearWarmup(o as never),
    valid: { peak: 0.1, warmupSteps: 10, init: 0.01 },
    typo: ['warmupStep', 'warmupSteps'],
    required: ['peak', 'warmupSteps'],
    nullRefused: [],
    outOfDomain: [...each('peak', [-1, ...NON_FINITE, '0.1']), ...each('warmupSteps', [0, 1.5, '10']), ...each('init', [-1, NaN])],
  },
  {
    fn: 'cosineDecay',
    call: (o) => cosineDecay(o as never),
    valid: { peak: 0.1, decaySteps: 100, warmupSteps: 10, init: 0, floor: 1e-5 },
    typo: ['decayStep', 'decaySteps'],
    required: ['peak', 'decaySteps'],
    nullRefused: [],
    outOfDomain: [
      ...each('peak', [-1, NaN, Infinity]),
      ...each('decaySteps', [0, 2.5]),
      ...each('warmupSteps', [-1, 0.5]),
      ...each('floor', [-1, '0']),
    ],
    combinations: [[{ warmupSteps: 100 }, /^cosineDecay: warmupSteps \(100\) must be smaller than decaySteps \(100\)/]],
  },
  {
    fn: 'stepDecay',
    call: (o) => stepDecay(o as never),
    valid: { init: 0.1, gamma: 0.5, stepSize: 30 },
    typo: ['stepsize', 'stepSize'],
    required: ['init'],
    nullRefused: ['stepSize'],
    outOfDomain: [...each('init', [-1, NaN]), ...each('gamma', [-0.5, Infinity]), ...each('stepSize', [0, 1.5, '30'])],
    combinations: [
      [{ milestones: [10] }, /^stepDecay: give exactly one of stepSize and milestones$/],
      [{ stepSize: undefined }, /^stepDecay: give exactly one of stepSize and milestones$/],
    ],
  },
  {
    fn: 'stepDecay',
    call: (o) => stepDecay(o as never),
    valid: { init: 0.1, milestones: [10, 15] },
    typo: ['milestone', 'milestones'],
    required: ['init'],
    nullRefused: ['milestones'],
    outOfDomain: each('milestones', [[15, 10], [0], [1.5], [10, 10], 'x']),
  },
  {
    fn: 'exponentialDecay',
    call: (o) => exponentialDecay(o as never),
    valid: { init: 1, gamma: 0.9, transitionSteps: 10, staircase: true, floor: 0.1 },
    typo: ['transitionStep', 'transitionSteps'],
    required: ['init', 'gamma'],
    nullRefused: ['floor'],
    outOfDomain: [
      ...each('init', [-1, Infinity]),
      ...each('gamma', [-0.9, NaN]),
      ...each('transitionSteps', [0, 1.5]),
      ...each('floor', [-1, NaN]),
    ],
  },
  {
    fn: 'polynomialDecay',
    call: (o) => polynomialDecay(o as never),
    valid: { init: 1, decaySteps: 10, end: 0.1, power: 2 },
    typo: ['powr', 'power'],
    required: ['init', 'decaySteps'],
    nullRefused: [],
    outOfDomain: [...each('init', [-1, NaN]), ...each('decaySteps', [0, 1.5]), ...each('end', [-1]), ...each('power', [-1, Infinity])],
  },
  {
    fn: 'oneCycle',
    call: (o) => oneCycle(o as never),
    valid: { maxLr: 0.1, totalSteps: 100, pctStart: 0.25, divFactor: 10, finalDivFactor: 100, anneal: 'linear', threePhase: true },
    typo: ['maxLR', 'maxLr'],
    required: ['maxLr', 'totalSteps'],
    nullRefused: [],
    outOfDomain: [
      ...each('maxLr', [-1, NaN]),
      ...each('totalSteps', [1, 0, 2.5]),
      ...each('pctStart', [0, 1, -0.1, NaN, '0.3']),
      ...each('divFactor', [-1, Infinity]),
      ...each('finalDivFactor', [-1]),
      ...each('anneal', ['exp', 'COS']),
    ],
  },
];

/** Calls `f` and returns the GradpipeError it throws (failing the test when it throws nothing or something else). */
function refusal(f: () => unknown): GradpipeError {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof GradpipeError)) {
    throw new Error(`expected a GradpipeError, got ${error === undefined ? 'no error (accepted)' : String(error)}`);
  }
  return error;
}

/** The refusal names the function (as `fn` and first in the message). */
function expectNamed(error: GradpipeError, fn: string): void {
  expect(error.fn).toBe(fn);
  expect(error.message.startsWith(`${fn}: `)).toBe(true);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const label = (row: Row) =>
  `${row.fn}(${JSON.stringify(row.valid, (_k, v) => (typeof v === 'function' ? 'fn' : ArrayBuffer.isView(v) ? 'Float32Array' : v))})`;

describe.each(ROWS.map((row) => [label(row), row] as const))('issue 13, item 4 (the option rules): %s', (_label, row) => {
  it('accepts its valid options', () => {
    expect(() => row.call(row.valid)).not.toThrow();
  });

  it(`refuses the misspelt key "${row.typo[0]}" with a hint: did you mean "${row.typo[1]}"?`, () => {
    const error = refusal(() => row.call({ ...row.valid, [row.typo[0]]: 1 }));
    expectNamed(error, row.fn);
    expect(error.message).toMatch(
      new RegExp(`^${escape(row.fn)}: unknown option "${row.typo[0]}" \\(did you mean "${row.typo[1]}"\\? known: `),
    );
    // A key nothing like any option is refused too (without a hint).
    const far = refusal(() => row.call({ ...row.valid, zzzzzzzzzzzz: 1 }));
    expect(far.message).toMatch(new RegExp(`^${escape(row.fn)}: unknown option "zzzzzzzzzzzz" \\(known: `));
  });

  it.each(row.required.length ? row.required : ['(none)'])('refuses the required option %s missing or null', (key) => {
    if (key === '(none)') return;
    const { [key]: _dropped, ...without } = row.valid;
    for (const [options, shown] of [
      [without, 'undefined'],
      [{ ...row.valid, [key]: null }, 'null'],
    ] as const) {
      const error = refusal(() => row.call(options));
      expectNamed(error, row.fn);
      expect(error.message).toMatch(new RegExp(`${escape(key)}.*${shown}`));
    }
  });

  it.each(row.nullRefused.length ? row.nullRefused : ['(none)'])(
    'refuses null for the optional option %s (null is not "the default")',
    (key) => {
      if (key === '(none)') return;
      const error = refusal(() => row.call({ ...row.valid, [key]: null }));
      expectNamed(error, row.fn);
      expect(error.message).toMatch(new RegExp(`${escape(key)}.*null`));
    },
  );

  it.each(row.outOfDomain.map(([key, value]) => [key, describeValue(value), value] as const))(
    'refuses %s = %s, naming the option and the value',
    (key, shown, value) => {
      const error = refusal(() => row.call({ ...row.valid, [key]: value }));
      expectNamed(error, row.fn);
      expect(error.message).toContain(key);
      expect(error.message).toContain(shown);
    },
  );

  it.each((row.combinations ?? []).length ? row.combinations! : [[{}, /(none)/] as const])(
    'refuses the combination %o',
    (extra, message) => {
      if (message.source === '(none)') return;
      const error = refusal(() => row.call({ ...row.valid, ...extra }));
      expectNamed(error, row.fn);
      expect(error.message).toMatch(message);
    },
  );

  it('refuses options that are not a plain object', () => {
    class Options {
      maxNorm = 1;
    }
    for (const options of [null, 'x', true, [], new Map(), () => ({}), new Options()]) {
      if (row.notOptions?.includes(options)) continue;
      const error = refusal(() => row.call(options));
      expectNamed(error, row.fn);
    }
  });
});

describe('issue 13, item 4 (the option rules): functions that take one value', () => {
  it.each<[string, (v: unknown) => unknown, unknown, readonly unknown[]]>([
    ['constant', (v) => constant(v as number), 0.1, [-1, NaN, Infinity, '0.1', 1n, null, undefined, {}]],
    ['everyNthStep', (v) => everyNthStep(v as number), 10, [0, -1, 1.5, NaN, Infinity, '10', 10n, null, undefined]],
    ['inProcessAllReduce', (v) => inProcessAllReduce(v as number), 2, [0, -1, 1.5, NaN, Infinity, '2', 2n, null, undefined]],
  ])('%s refuses a value outside its domain, naming it', (fn, call, valid, bad) => {
    expect(() => call(valid)).not.toThrow();
    for (const value of bad) {
      const error = refusal(() => call(value));
      expectNamed(error, fn);
      expect(error.message).toContain(describeValue(value));
    }
  });

  it('wasmSimdOps refuses what is not a WebAssembly.Memory, and accepts one', () => {
    expect(() => wasmSimdOps(new WebAssembly.Memory({ initial: 1 }))).not.toThrow();
    for (const memory of [null, undefined, {}, 1, 'memory', new ArrayBuffer(8), { buffer: 'x' }]) {
      const error = refusal(() => wasmSimdOps(memory as never));
      expectNamed(error, 'wasmSimdOps');
      expect(error.message).toContain(describeValue(memory));
    }
  });

  it('chainSchedules refuses a non-schedule, and boundaries of the wrong count or order', () => {
    const a = constant(1);
    const b = constant(0.5);
    expect(() => chainSchedules([a, b], [10])).not.toThrow();
    for (const [schedules, boundaries] of [
      [[], []],
      [[a, 0.5], [10]],
      [[a, b], []],
      [[a, b], [0]],
      [[a, b], [1.5]],
      [
        [a, b, a],
        [10, 5],
      ],
      [null, [10]],
      [[a, b], null],
    ] as const) {
      expectNamed(
        refusal(() => chainSchedules(schedules as never, boundaries as never)),
        'chainSchedules',
      );
    }
  });

  it('scheduleFromJSON refuses an unknown kind (own properties only) and hands a bad config to its factory', () => {
    for (const kind of ['cosine', 'constructor', 'toString', '__proto__']) {
      const error = refusal(() => scheduleFromJSON({ kind, config: {} }));
      expectNamed(error, 'scheduleFromJSON');
      expect(error.message).toContain(`unknown schedule kind ${JSON.stringify(kind)}`);
    }
    for (const json of [null, 'constant', { kind: 'constant' }, { kind: 1, config: {} }])
      expectNamed(
        refusal(() => scheduleFromJSON(json as never)),
        'scheduleFromJSON',
      );
    expectNamed(
      refusal(() => scheduleFromJSON({ kind: 'cosineDecay', config: { peak: 1, decaySteps: 10, warmup: 2 } })),
      'cosineDecay',
    );
    expect(refusal(() => scheduleFromJSON({ kind: 'cosineDecay', config: { peak: 1, decaySteps: 10, warmupStep: 2 } })).message).toMatch(
      /did you mean "warmupSteps"\?/,
    );
  });

  it('a step refused for its options leaves the caller’s arrays bit-identical', () => {
    const pipe = new GradientPipeline([clipByValue(0.5), clipByGlobalNorm({ maxNorm: 0.1 })]);
    const g = grads();
    const before = Object.values(g).map((a) => Array.from(new Uint32Array(a.buffer)));
    for (const options of [{ shape: {} }, { lr: -1 }, { params: null }, { shapes: null }, { loss: '1' }])
      refusal(() => pipe.step(g, options as never));
    expect(Object.values(g).map((a) => Array.from(new Uint32Array(a.buffer)))).toEqual(before);
    expect(pipe.stepCount).toBe(0);
  });
});
