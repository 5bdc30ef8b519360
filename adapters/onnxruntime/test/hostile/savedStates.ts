// Saved trainer states to corrupt: two trained runs saved mid-accumulation, the fields of their state that this
// package checks, and fast-check arbitraries of corruptions of them (shared by state.test.ts and checkpoints.test.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clipByGlobalNorm, cosineDecay, describeValue, GradientPipeline } from '@gradpipe/core';
import type { LossName, OrtTrainerState } from '@gradpipe/onnxruntime';
import { adamw, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';

const zoo = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/zoo/${name}.onnx`, import.meta.url))));
const uniform = (n: number, seed: number) => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2;
  });
};

/** A trained run saved mid-accumulation, and the model (training form) to resume it on. */
export interface Saved {
  model: Uint8Array;
  loss: LossName;
  state: OrtTrainerState;
}
type Path = (string | number)[];

const SETUPS = {
  // Dropout (state.rng), AdamW with a param group, a schedule, partial sums
  layernorm: {
    model: 'layernorm_mlp_train',
    loss: 'mse',
    options: () => ({
      optimizer: adamw({ lr: 1e-2, groups: [{ params: /bias$|ln/, weightDecay: 0 }] }),
      pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 0.5 })]),
      schedule: cosineDecay({ peak: 1e-2, warmupSteps: 2, decaySteps: 10 }),
      accumulate: 2,
      seed: 4,
    }),
    batch: (i: number) => ({
      feeds: { input: new ort.Tensor('float32', uniform(4 * 12, i), [4, 12]) },
      target: new ort.Tensor('float32', uniform(12, i + 50), [4, 3]),
    }),
  },
  // training-mode BatchNorm (state.pendingStatistics), SGD with momentum
  resnet: {
    model: 'resnet_block_train',
    loss: 'crossEntropy',
    options: () => ({ optimizer: sgd({ lr: 0.05, momentum: 0.9 }), accumulate: 2 }),
    batch: (i: number) => ({
      feeds: { input: new ort.Tensor('float32', uniform(4 * 4 * 64, i), [4, 4, 8, 8]) },
      target: new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 1n]), [4]),
    }),
  },
} as const;

export type SetupName = keyof typeof SETUPS;
export const SETUP_NAMES = Object.keys(SETUPS) as SetupName[];

/** A trainer of the setup, trained 2 updates and one micro-batch into the next (it is the caller's to release). */
export async function trainedTrainer(name: SetupName): Promise<OrtTrainer> {
  const setup = SETUPS[name];
  const trainer = await OrtTrainer.create(zoo(setup.model), { loss: setup.loss, ...setup.options() } as never);
  for (let i = 0; i < 5; i++) await trainer.step(setup.batch(i).feeds, setup.batch(i).target);
  return trainer;
}

/** The setup's run, saved: its model in training form and its state as JSON gives it back. */
export async function savedRun(name: SetupName): Promise<Saved> {
  const trainer = await trainedTrainer(name);
  const run = {
    model: trainer.exportModel({ mode: 'training' }),
    loss: SETUPS[name].loss,
    state: JSON.parse(JSON.stringify(trainer.toJSON())) as OrtTrainerState,
  };
  await trainer.release();
  return run;
}

/** One more batch of the setup (to train on after resuming). */
export const batchOf = (name: SetupName, i: number) => SETUPS[name].batch(i);

const get = (o: unknown, path: Path): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], o);
const keysAt = (o: unknown, path: Path) => Object.keys(get(o, path) as object).map((k) => [...path, k]);

/** The state's fields this package checks, by what may be done to them. */
function fields(state: OrtTrainerState) {
  const optimizer = state.optimizer as unknown as { config: Record<string, unknown>; state: Record<string, unknown> };
  const bufferMaps: Path[] =
    'm' in optimizer.state
      ? [
          ['optimizer', 'state', 'm'],
          ['optimizer', 'state', 'v'],
        ]
      : [['optimizer', 'state', 'momentumBuffers']];
  const buffers: { path: Path; bytes: 4 | 8; nonNegative: boolean }[] = [
    ...bufferMaps.flatMap((map) => keysAt(state, map).map((path) => ({ path, bytes: 4 as const, nonNegative: map.at(-1) === 'v' }))),
    ...keysAt(state, ['accumulator', 'sums']).map((path) => ({ path, bytes: 8 as const, nonNegative: false })),
    ...(state.pendingStatistics
      ? keysAt(state, ['pendingStatistics', 0]).map((path) => ({
          path,
          bytes: 4 as const,
          nonNegative: String(path.at(-1)).endsWith('var'),
        }))
      : []),
  ];
  // Required where they are: removing one is a corruption (schedule and accumulator may be absent; their
  // contents are core's). Buffers are required too: the trainer updates every parameter.
  const required: Path[] = [
    ...['format', 'version', 'fingerprint', 'optimizer', 'pipeline', 'updates'].map((k) => [k]),
    ...(state.rng ? [['rng']] : []),
    ...(state.pendingStatistics ? [['pendingStatistics'], ['pendingStatistics', 0]] : []),
    ...keysAt(state, ['optimizer']),
    ...keysAt(state, ['optimizer', 'config']),
    ...keysAt(state, ['optimizer', 'state']),
    ...buffers.map((b) => b.path),
  ];
  const typed: Path[] = [
    ...required,
    ['schedule'],
    ['accumulator'],
    ...(state.rng ? state.rng.map((_, i) => ['rng', i]) : []),
    ...(optimizer.config.groups as unknown[]).flatMap((_, i) => [
      ['optimizer', 'config', 'groups', i],
      ['optimizer', 'config', 'groups', i, 'names'],
      ['optimizer', 'config', 'groups', i, 'options'],
    ]),
    ...keysAt(state, ['optimizer', 'config'])
      .filter((p) => Array.isArray(get(state, p)))
      .flatMap((p) => (get(state, p) as unknown[]).map((_, i) => [...p, i])),
  ].filter((p) => get(state, p) !== undefined);
  const objects: Path[] = [
    [],
    ['optimizer'],
    ['optimizer', 'config'],
    ['optimizer', 'state'],
    ...(optimizer.config.groups as unknown[]).map((_, i) => ['optimizer', 'config', 'groups', i]),
    ...(state.pendingStatistics ? [['pendingStatistics', 0]] : []),
  ];
  const counters: Path[] = [
    ['updates'],
    ['optimizer', 'state', 'step'],
    ['accumulator', 'pending'],
    ['version'],
    ['optimizer', 'version'],
  ].filter((p) => get(state, p) !== undefined);
  return { buffers, required, typed, objects, counters };
}

/** A value of another type than `original` (or a non-finite number): never valid where `original` was. */
function otherType(original: unknown, json: boolean): fc.Arbitrary<unknown> {
  const all: unknown[] = [null, 'x', '', true, 1, -1, [], [1], {}, ...(json ? [] : [new Map(), 1n, Number.NaN, Infinity])];
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : v instanceof Map ? 'map' : typeof v);
  return fc.constantFrom(...all.filter((v) => kind(v) !== kind(original) || (typeof v === 'number' && !Number.isFinite(v))));
}

/** Corruptions of a base64 buffer of `bytes`-byte floats. */
function corruptBuffer(text: string, bytes: 4 | 8, nonNegative: boolean): fc.Arbitrary<[string, string]> {
  const count = Buffer.from(text, 'base64').length / bytes;
  const encode = (values: number[]) => Buffer.from((bytes === 4 ? Float32Array : Float64Array).from(values).buffer).toString('base64');
  return fc
    .oneof(
      fc
        .integer({ min: 1, max: Math.min(8, text.length) })
        .map((k) => [`truncated by ${k} characters`, text.slice(0, -k)] as [string, string]),
      fc
        .tuple(fc.nat(text.length - 1), fc.constantFrom('!', '-', '_', ' ', '\n', '.'))
        .map(([at, c]) => [`${JSON.stringify(c)} at ${at}`, text.slice(0, at) + c + text.slice(at + 1)] as [string, string]),
      fc.constantFrom<[string, string]>(
        ['one value more', encode([...new Array<number>(count + 1).fill(0.5)])],
        ['one value fewer', encode(new Array<number>(Math.max(0, count - 1)).fill(0.5))],
        ['empty', ''],
      ),
      fc
        .tuple(
          fc.nat(Math.max(0, count - 1)),
          fc.constantFrom(Number.NaN, Infinity, -Infinity, ...(nonNegative ? [-1] : []), ...(bytes === 8 ? [1e300] : [])),
        )
        .map(([at, v]) => [`${v} at ${at}`, encode(Array.from({ length: count }, (_, i) => (i === at ? v : 0.5)))] as [string, string]),
      fc.constant<[string, string]>([
        'base64 of another alphabet',
        text.replace(/[+/]/g, (c) => (c === '+' ? '-' : '_')) + (text.includes('+') || text.includes('/') ? '' : '*'),
      ]),
    )
    .filter(([, corrupted]) => corrupted !== text);
}

/**
 * Every corruption the suite applies to a saved state: a label and the corrupted copy. With `json`, only
 * values JSON can carry (for a corrupted trainer.json): no bigints, NaN, Infinity or Maps.
 */
export function corruptions(state: OrtTrainerState, json = false): fc.Arbitrary<[string, unknown]> {
  const f = fields(state);
  const at = (path: Path, change: (parent: Record<string | number, unknown>, key: string | number) => void) => {
    const copy = structuredClone(state) as unknown as Record<string, unknown>;
    change(get(copy, path.slice(0, -1)) as Record<string | number, unknown>, path.at(-1)!);
    return copy;
  };
  const show = (p: Path) => p.map(String).join('.') || '(state)';
  return fc.oneof(
    fc
      .constantFrom(...f.required)
      .map((p) => [`${show(p)} removed`, at(p, (o, k) => (Array.isArray(o) ? o.splice(Number(k), 1) : delete o[k]))] as [string, unknown]),
    fc
      .constantFrom(...f.typed)
      .chain((p) =>
        otherType(get(state, p), json).map((v) => [`${show(p)} = ${describeValue(v)}`, at(p, (o, k) => (o[k] = v))] as [string, unknown]),
      ),
    fc.tuple(fc.constantFrom(...f.objects), fc.constantFrom('extra', 'updates2', 'lR', '__proto__x')).map(([p, key]) => {
      const copy = structuredClone(state) as unknown as Record<string, unknown>;
      (get(copy, p) as Record<string, unknown>)[key] = 1;
      return [`extra key ${key} in ${show(p)}`, copy] as [string, unknown];
    }),
    fc
      .constantFrom(...f.buffers)
      .chain(({ path, bytes, nonNegative }) =>
        corruptBuffer(get(state, path) as string, bytes, nonNegative).map(
          ([what, text]) => [`${show(path)}: ${what}`, at(path, (o, k) => (o[k] = text))] as [string, unknown],
        ),
      ),
    fc
      .tuple(
        fc.constantFrom(...f.counters),
        fc.constantFrom<unknown>(-1, 1.5, '2', 2 ** 53, ...(json ? [] : [Number.NaN, Infinity, -Infinity])),
      )
      .map(([p, v]) => [`${show(p)} = ${describeValue(v)}`, at(p, (o, k) => (o[k] = v))] as [string, unknown]),
    fc.constantFrom<[string, unknown]>(
      ['format of another file', { ...state, format: 'gradpipe.optimizer' }],
      ['fingerprint of another model', { ...state, fingerprint: 'ab'.repeat(32) }],
      ['fingerprint in capitals', { ...state, fingerprint: state.fingerprint.toUpperCase() }],
      ['rng all zeros', { ...state, rng: [0, 0, 0, 0] }],
      ['rng of five words', { ...state, rng: [1, 2, 3, 4, 5] }],
      ['rng beyond 32 bits', { ...state, rng: [2 ** 31, 1, 2, 3] }],
      ['rng on a model without Dropout', { ...state, rng: state.rng ? undefined : [1, 2, 3, 4] }],
      ['pendingStatistics on a model without BatchNorm', { ...state, pendingStatistics: state.pendingStatistics ? [] : [{}] }],
      [
        'a saved group naming a parameter twice',
        { ...state, optimizer: groupNames(state, (names) => [...names, names[0] ?? 'l1.weight', names[0] ?? 'l1.weight']) },
      ],
      [
        'a saved group naming no parameter of the model',
        { ...state, optimizer: groupNames(state, (names) => [...names, 'not.a.parameter']) },
      ],
    ),
  );
}

/** The state's optimizer with its first group's names changed (a group added if it has none). */
function groupNames(state: OrtTrainerState, change: (names: string[]) => string[]) {
  const optimizer = structuredClone(state.optimizer) as unknown as { config: { groups: { names: string[]; options: object }[] } };
  const groups = optimizer.config.groups;
  if (groups.length === 0) groups.push({ names: [], options: {} });
  groups[0]!.names = change(groups[0]!.names);
  return optimizer;
}
