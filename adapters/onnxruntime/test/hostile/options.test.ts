// Every option of every public function of @gradpipe/onnxruntime, given what a hostile or careless caller
// passes: wrong types and values outside the domain (bigints and null included), misspelt keys. Each must be
// refused with a GradpipeError that names the function, the option and the value — never a TypeError, never
// silently taken for the default.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeValue, GradientPipeline } from '@gradpipe/core';
import { adam, adamw, buildTrainingModel, mlpModel, modelFingerprint, OrtTrainer, optimizerFromJSON, sgd } from '@gradpipe/onnxruntime';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  FC,
  inUnitInterval,
  isArray,
  isBoolean,
  isCount,
  isFinite,
  isInt32,
  isNonNegativeFinite,
  isPlainObject,
  isPositiveFinite,
  isSafeInteger,
  isStringArray,
  misspelling,
  oneOf,
  refusal,
  wrongFor,
} from './support.js';

const model = mlpModel({ sizes: [3, 4, 3] });
const LOSSES = ['mse', 'crossEntropy', 'nll', 'bceWithLogits', 'l1', 'huber'];

/** One option of one function: its domain, and a call with everything else valid. */
interface OptionCase {
  /** The function named in the message (param groups: `sgd (groups[0])`). */
  fn: string;
  /** The option as the message names it. */
  option: string;
  valid: (v: unknown) => boolean;
  call: (value: unknown) => unknown;
}

const createCall = (option: string) => (value: unknown) =>
  OrtTrainer.create(model, { loss: 'mse', optimizer: sgd({ lr: 0.1 }), [option]: value } as never);
const trainerOptions = (fn: string, call: (option: string) => (value: unknown) => unknown): OptionCase[] => [
  { fn, option: 'seed', valid: isInt32, call: call('seed') },
  { fn, option: 'accumulate', valid: isCount, call: call('accumulate') },
  { fn, option: 'loss', valid: (v) => LOSSES.includes(v as string) || isPlainObject(v), call: call('loss') },
  { fn, option: 'lossOptions', valid: isPlainObject, call: call('lossOptions') },
  {
    fn,
    option: 'schedule',
    valid: (v) => typeof v === 'function' && typeof (v as { kind?: unknown }).kind === 'string',
    call: call('schedule'),
  },
  { fn, option: 'trainable', valid: isStringArray, call: call('trainable') },
  { fn, option: 'output', valid: oneOf('output'), call: call('output') },
  { fn, option: 'transforms', valid: isPlainObject, call: call('transforms') },
  { fn, option: 'sessionOptions', valid: isPlainObject, call: call('sessionOptions') },
];

const sgdCall = (option: string) => (value: unknown) => sgd({ lr: 0.1, [option]: value } as never);
const adamCall = (factory: typeof adam) => (option: string) => (value: unknown) => factory({ [option]: value } as never);
const groupCall = (factory: (o: never) => unknown, base: object) => (option: string) => (value: unknown) =>
  factory({ ...base, groups: [{ params: /weight/, [option]: value }] } as never);
const sgdOptions = (fn: string, call: (option: string) => (value: unknown) => unknown): OptionCase[] => [
  { fn, option: 'lr', valid: isNonNegativeFinite, call: call('lr') },
  { fn, option: 'momentum', valid: isNonNegativeFinite, call: call('momentum') },
  { fn, option: 'dampening', valid: inUnitInterval, call: call('dampening') },
  { fn, option: 'weightDecay', valid: isNonNegativeFinite, call: call('weightDecay') },
  { fn, option: 'nesterov', valid: isBoolean, call: call('nesterov') },
];
const adamOptions = (fn: string, call: (option: string) => (value: unknown) => unknown): OptionCase[] => [
  { fn, option: 'lr', valid: isNonNegativeFinite, call: call('lr') },
  { fn, option: 'betas', valid: (v) => isArray(v) && (v as unknown[]).length === 2, call: call('betas') },
  { fn, option: 'eps', valid: isPositiveFinite, call: call('eps') },
  { fn, option: 'weightDecay', valid: isNonNegativeFinite, call: call('weightDecay') },
];

const lossCall = (loss: string, option: string) => (value: unknown) =>
  buildTrainingModel(model, { loss, lossOptions: { [option]: value } } as never);
const lossOptions: OptionCase[] = [
  { fn: 'buildTrainingModel', option: 'lossOptions.reduction', valid: oneOf('mean', 'sum'), call: lossCall('mse', 'reduction') },
  { fn: 'buildTrainingModel', option: 'lossOptions.ignoreIndex', valid: isSafeInteger, call: lossCall('crossEntropy', 'ignoreIndex') },
  {
    fn: 'buildTrainingModel',
    option: 'lossOptions.labelSmoothing',
    valid: inUnitInterval,
    call: lossCall('crossEntropy', 'labelSmoothing'),
  },
  { fn: 'buildTrainingModel', option: 'lossOptions.delta', valid: isPositiveFinite, call: lossCall('huber', 'delta') },
  {
    fn: 'buildTrainingModel',
    option: 'lossOptions.weight',
    valid: (v) => isArray(v) && (v as unknown[]).length > 0 && (v as unknown[]).every(isNonNegativeFinite),
    call: lossCall('crossEntropy', 'weight'),
  },
  {
    fn: 'buildTrainingModel',
    option: 'lossOptions.posWeight',
    valid: (v) => isArray(v) && (v as unknown[]).length > 0 && (v as unknown[]).every(isNonNegativeFinite),
    call: lossCall('bceWithLogits', 'posWeight'),
  },
];

const buildCall = (option: string) => (value: unknown) => buildTrainingModel(model, { loss: 'mse', [option]: value } as never);
const mlpCall = (option: string) => (value: unknown) => mlpModel({ sizes: [3, 2], [option]: value } as never);

let dir: string;
let trainer: OrtTrainer;
beforeAll(async () => {
  trainer = await OrtTrainer.create(model, { loss: 'mse', optimizer: sgd({ lr: 0.1 }) });
  dir = mkdtempSync(join(tmpdir(), 'gradpipe-hostile-options-'));
  await trainer.save(dir);
});
afterAll(() => trainer.release());

const loadCall = (option: string) => (value: unknown) => OrtTrainer.load(dir, { loss: 'mse', [option]: value } as never);

const CASES: OptionCase[] = [
  ...trainerOptions('OrtTrainer.create', createCall),
  {
    fn: 'OrtTrainer.create',
    option: 'optimizer',
    valid: (v) => typeof (v as { update?: unknown } | null)?.update === 'function',
    call: (v) => OrtTrainer.create(model, { loss: 'mse', optimizer: v } as never),
  },
  { fn: 'OrtTrainer.create', option: 'pipeline', valid: (v) => v instanceof GradientPipeline, call: createCall('pipeline') },
  {
    fn: 'OrtTrainer.create',
    option: 'state',
    valid: () => false,
    call: (v) => OrtTrainer.create(model, { loss: 'mse', state: v } as never),
  },
  ...trainerOptions('OrtTrainer.load', loadCall),
  {
    fn: 'buildTrainingModel',
    option: 'loss',
    valid: (v) => LOSSES.includes(v as string) || isPlainObject(v),
    call: (v) => buildTrainingModel(model, { loss: v } as never),
  },
  { fn: 'buildTrainingModel', option: 'lossOptions', valid: isPlainObject, call: buildCall('lossOptions') },
  { fn: 'buildTrainingModel', option: 'trainable', valid: isStringArray, call: buildCall('trainable') },
  { fn: 'buildTrainingModel', option: 'output', valid: oneOf('output'), call: buildCall('output') },
  ...lossOptions,
  ...sgdOptions('sgd', sgdCall),
  { fn: 'sgd', option: 'groups', valid: isArray, call: sgdCall('groups') },
  ...sgdOptions('sgd (groups[0])', groupCall(sgd as never, { lr: 0.1 })),
  {
    fn: 'sgd',
    option: 'groups[0].params',
    valid: (v) => v instanceof RegExp || typeof v === 'function' || isStringArray(v),
    call: (v) => sgd({ lr: 0.1, groups: [{ params: v }] } as never),
  },
  ...adamOptions('adam', adamCall(adam)),
  ...adamOptions('adamw', adamCall(adamw)),
  { fn: 'adamw', option: 'groups', valid: isArray, call: adamCall(adamw)('groups') },
  ...adamOptions('adam (groups[0])', groupCall(adam as never, {})),
  {
    fn: 'OrtTrainer.exportModel',
    option: 'mode',
    valid: oneOf('inference', 'training'),
    call: (v) => trainer.exportModel({ mode: v } as never),
  },
  {
    fn: 'mlpModel',
    option: 'sizes',
    valid: (v) => isArray(v) && (v as unknown[]).length >= 2,
    call: (v) => mlpModel({ sizes: v } as never),
  },
  { fn: 'mlpModel', option: 'seed', valid: isInt32, call: mlpCall('seed') },
  { fn: 'mlpModel', option: 'bias', valid: isFinite, call: mlpCall('bias') },
  { fn: 'sgd.lr', option: 'lr', valid: isNonNegativeFinite, call: (v) => (sgd({ lr: 0.1 }).lr = v as number) },
  { fn: 'adam.lr', option: 'lr', valid: isNonNegativeFinite, call: (v) => (adam().lr = v as number) },
];

/** The refusal of `call(value)`: a GradpipeError from `fn`, naming the option and showing the value as given. */
async function expectNamedRefusal({ fn, option, call }: OptionCase, value: unknown): Promise<void> {
  const error = await refusal(() => call(value));
  expect(error.message.startsWith(`${fn}: `), error.message).toBe(true);
  expect(error.message).toContain(option);
  expect(error.message).toContain(`got ${describeValue(value)}`);
}

describe("a value outside its option's domain is refused, naming the function, the option and the value", () => {
  test.each(CASES.map((c) => [`${c.fn} ${c.option}`, c] as const))('%s (property)', async (_name, c) => {
    await fc.assert(
      fc.asyncProperty(wrongFor(c.valid), async (value) => expectNamedRefusal(c, value)),
      { ...FC, numRuns: c.fn === 'OrtTrainer.load' ? 15 : 40 },
    );
  });

  test.each(CASES.map((c) => [`${c.fn} ${c.option}`, c] as const))('%s: null is refused, not taken for the default', async (_name, c) => {
    await expectNamedRefusal(c, null);
  });

  test('bigints are refused and shown as bigints (1n), not as the number they look like', async () => {
    // every numeric option, given 1n — what `BigInt` arithmetic or an int64 tensor's data hands over
    const numeric = [
      'seed',
      'accumulate',
      'lr',
      'momentum',
      'dampening',
      'eps',
      'weightDecay',
      'bias',
      'lossOptions.ignoreIndex',
      'lossOptions.delta',
      'lossOptions.labelSmoothing',
    ];
    const cases = CASES.filter((c) => numeric.includes(c.option));
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) expect((await refusal(() => c.call(1n))).message, `${c.fn} ${c.option}`).toMatch(/ got 1n$/);
    // inside arrays, and under names that do not exist
    expect((await refusal(() => adam({ betas: [1n, 0.999] } as never))).message).toBe('adam: betas[0] must be a number in [0, 1), got 1n');
    expect((await refusal(() => mlpModel({ sizes: [3n, 2] } as never))).message).toBe('mlpModel: sizes[0] must be an integer >= 1, got 3n');
    expect(
      (await refusal(() => OrtTrainer.create(model, { loss: 'mse', optimizer: sgd({ lr: 0.1 }), batchSize: 4n } as never))).message,
    ).toMatch(/^OrtTrainer\.create: unknown option "batchSize"/);
  });

  test('what the domains call valid is accepted (the properties above are not vacuous)', async () => {
    const created = await OrtTrainer.create(model, {
      loss: 'crossEntropy',
      lossOptions: { ignoreIndex: -1, labelSmoothing: 0.1, weight: [1, 2, 1] },
      optimizer: adamw({ lr: 0, betas: [0, 0.5], groups: [{ params: /bias/, weightDecay: 0 }] }),
      seed: -(2 ** 31),
      accumulate: 3,
      sessionOptions: {},
      transforms: {},
    });
    await created.release();
    expect(() => sgd({ lr: 0, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0 })).not.toThrow();
    expect(() => mlpModel({ sizes: [1, 1], seed: 2 ** 31 - 1, bias: -0 })).not.toThrow();
  });
});

describe('misspelt option keys are refused with a "did you mean" hint', () => {
  /** Functions and their known keys, with a call that passes `extra` next to valid options. */
  const FUNCTIONS: { fn: string; known: string[]; call: (extra: Record<string, unknown>) => unknown }[] = [
    {
      fn: 'OrtTrainer.create',
      known: [
        'loss',
        'lossOptions',
        'optimizer',
        'pipeline',
        'schedule',
        'accumulate',
        'trainable',
        'output',
        'seed',
        'state',
        'transforms',
        'sessionOptions',
      ],
      call: (x) => OrtTrainer.create(model, { loss: 'mse', optimizer: sgd({ lr: 0.1 }), ...x }),
    },
    {
      fn: 'OrtTrainer.load',
      known: ['loss', 'lossOptions', 'schedule', 'accumulate', 'trainable', 'output', 'seed', 'transforms', 'sessionOptions'],
      call: (x) => OrtTrainer.load(dir, { loss: 'mse', ...x }),
    },
    {
      fn: 'buildTrainingModel',
      known: ['loss', 'lossOptions', 'trainable', 'output'],
      call: (x) => buildTrainingModel(model, { loss: 'mse', ...x }),
    },
    {
      fn: 'buildTrainingModel',
      known: ['reduction', 'ignoreIndex', 'labelSmoothing', 'weight', 'posWeight', 'delta'],
      call: (x) => buildTrainingModel(model, { loss: 'crossEntropy', lossOptions: x }),
    },
    { fn: 'sgd', known: ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'groups'], call: (x) => sgd({ lr: 0.1, ...x }) },
    {
      fn: 'sgd',
      known: ['params', 'names', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'],
      call: (x) => sgd({ lr: 0.1, groups: [{ params: /w/, ...x }] }),
    },
    { fn: 'adam', known: ['lr', 'betas', 'eps', 'weightDecay', 'groups'], call: (x) => adam(x) },
    {
      fn: 'adamw',
      known: ['params', 'names', 'lr', 'betas', 'eps', 'weightDecay'],
      call: (x) => adamw({ groups: [{ params: /w/, ...x }] }),
    },
    { fn: 'OrtTrainer.exportModel', known: ['mode'], call: (x) => trainer.exportModel(x) },
    { fn: 'mlpModel', known: ['sizes', 'seed', 'bias'], call: (x) => mlpModel({ sizes: [3, 2], ...x }) },
  ];

  test.each(FUNCTIONS.map((f) => [`${f.fn} (${f.known.slice(0, 3).join(', ')}, …)`, f] as const))(
    '%s (property)',
    async (_name, { fn, known, call }) => {
      await fc.assert(
        fc.asyncProperty(misspelling(known), async (typo) => {
          const error = await refusal(() => call({ [typo]: 1 }));
          expect(error.message).toContain(`${fn}: unknown option ${JSON.stringify(typo)} (did you mean "`);
          const hint = /did you mean "([^"]+)"/.exec(error.message)![1]!;
          expect(known).toContain(hint);
        }),
        { ...FC, numRuns: fn === 'OrtTrainer.load' ? 10 : 30 },
      );
    },
  );

  test("the spellings PyTorch and Keras users bring are pointed to gradpipe's names", async () => {
    const hint = async (run: () => unknown) => /did you mean "([^"]+)"/.exec((await refusal(run)).message)?.[1];
    expect(await hint(() => sgd({ lr: 0.1, weight_decay: 1e-4 } as never))).toBe('weightDecay');
    expect(await hint(() => adamw({ weightdecay: 0.1 } as never))).toBe('weightDecay');
    expect(await hint(() => buildTrainingModel(model, { loss: 'crossEntropy', lossOptions: { ignore_index: -1 } } as never))).toBe(
      'ignoreIndex',
    );
    expect(await hint(() => buildTrainingModel(model, { loss: 'crossEntropy', lossOptions: { label_smoothing: 0.1 } } as never))).toBe(
      'labelSmoothing',
    );
    expect(await hint(() => buildTrainingModel(model, { loss: 'bceWithLogits', lossOptions: { pos_weight: [2] } } as never))).toBe(
      'posWeight',
    );
    expect(await hint(() => OrtTrainer.create(model, { loss: 'mse', optimiser: sgd({ lr: 0.1 }) } as never))).toBe('optimizer');
    expect(await hint(() => buildTrainingModel(model, { loss: 'mse', trainables: ['fc1.weight'] } as never))).toBe('trainable');
    expect(await hint(() => sgd({ lr: 0.1, groups: [{ param: /bias/ }] } as never))).toBe('params');
    expect(await hint(() => mlpModel({ size: [3, 1] } as never))).toBe('sizes');
  });
});

describe('values that pass the type check but not the model', () => {
  test('trainable names, transforms and sessionOptions contents, saved optimizers', async () => {
    const create = (extra: object) => OrtTrainer.create(model, { loss: 'mse', optimizer: sgd({ lr: 0.1 }), ...extra });
    expect((await refusal(() => create({ trainable: ['fc1.weigth'] }))).message).toMatch(
      /^OrtTrainer\.create: trainable "fc1\.weigth" is not an initializer of the model/,
    );
    expect((await refusal(() => create({ trainable: ['fc1.weight', 'fc1.weight'] }))).message).toBe(
      'OrtTrainer.create: trainable lists a name twice',
    );
    expect((await refusal(() => create({ transforms: { mine: 5 } }))).message).toBe(
      'OrtTrainer.create: transforms.mine must be a factory function (config) => transform, got 5',
    );
    // ONNX Runtime checks its own options (a RangeError or TypeError of its own): they come out as GradpipeErrors.
    expect((await refusal(() => create({ sessionOptions: { intraOpNumThreads: -5 } }))).message).toMatch(
      /^OrtTrainer\.create: ONNX Runtime could not open a session \(check sessionOptions\): .*intraOpNumThreads/,
    );
    expect((await refusal(() => create({ sessionOptions: { executionProviders: [null] } }))).message).toMatch(
      /^OrtTrainer\.create: ONNX Runtime could not open a session/,
    );
    expect((await refusal(() => optimizerFromJSON(null as never))).message).toBe(
      "optimizerFromJSON: expects the output of an optimizer's toJSON(), got null",
    );
    expect((await refusal(() => modelFingerprint(null as never))).message).toMatch(
      /^modelFingerprint: model must be the bytes of an \.onnx file/,
    );
    expect(modelFingerprint(model)).toMatch(/^[0-9a-f]{64}$/);
  });
});
