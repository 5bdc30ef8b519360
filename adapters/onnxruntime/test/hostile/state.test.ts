// Saved trainer state, corrupted: OrtTrainer.create({ state }) must refuse every corruption of the fields the
// trainer and its optimizers own — wrong types, missing and extra keys, torn or non-finite buffers, bad
// counters, versions, another model's state — with a GradpipeError before a session opens: never a TypeError,
// never NaN written into the weights at the next update. (The contents of the pipeline, schedule and accumulator
// envelopes are core's formats, checked by core's loaders; the suite corrupts what this package checks.)

import type { OrtTrainerState } from '@gradpipe/onnxruntime';
import { OrtTrainer } from '@gradpipe/onnxruntime';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Saved, SetupName } from './savedStates.js';
import { corruptions, SETUP_NAMES, savedRun } from './savedStates.js';
import { FC, refusal } from './support.js';

const saved: Partial<Record<SetupName, Saved>> = {};
beforeAll(async () => {
  for (const name of SETUP_NAMES) saved[name] = await savedRun(name);
});

describe.each(SETUP_NAMES)('%s: a corrupt state is refused by OrtTrainer.create', (name) => {
  test('every corruption (property): a GradpipeError from OrtTrainer.create, no TypeError, nothing opened', async () => {
    const { model, loss, state } = saved[name]!;
    await fc.assert(
      fc.asyncProperty(corruptions(state), async ([label, corrupted]) => {
        const error = await refusal(() => OrtTrainer.create(model, { loss, state: corrupted as OrtTrainerState }));
        expect(error.message.startsWith('OrtTrainer.create: '), `${label}: ${error.message}`).toBe(true);
      }),
      { ...FC, numRuns: 200 },
    );
  });

  test('the state itself, untouched, resumes (the corruptions above are what is refused)', async () => {
    const { model, loss, state } = saved[name]!;
    const resumed = await OrtTrainer.create(model, { loss, state: structuredClone(state) });
    expect(resumed.toJSON()).toEqual(state);
    await resumed.release();
  });
});

describe('the corruptions issue 13 names', () => {
  test('an optimizer buffer of the wrong length, not base64 float32, or NaN: refused before any weight changes', async () => {
    const { model, loss, state } = saved.layernorm!;
    const withMoment = (m: string, v = m) => {
      const copy = structuredClone(state) as unknown as { optimizer: { state: { m: Record<string, string>; v: Record<string, string> } } };
      copy.optimizer.state.m['l1.weight'] = m;
      copy.optimizer.state.v['l1.weight'] = v;
      return copy as unknown as OrtTrainerState;
    };
    const create = (s: OrtTrainerState) => refusal(() => OrtTrainer.create(model, { loss, state: s }));
    const f32 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString('base64');
    expect((await create(withMoment(f32([1, 2, 3])))).message).toBe(
      'OrtTrainer.create: state.optimizer is not valid: adamw.bind: the saved buffer of "l1.weight" has 3 values, the parameter 192',
    );
    expect((await create(withMoment('not base64!'))).message).toBe(
      'OrtTrainer.create: state.optimizer is not valid: adamw.loadState: buffer "l1.weight" must be base64 of float32 bytes, got "not base64!"',
    );
    const length = Buffer.from((state.optimizer.state as { m: Record<string, string> }).m['l1.weight']!, 'base64').length / 4;
    const nan = f32(Array.from({ length }, (_, i) => (i === 7 ? Number.NaN : 0)));
    expect((await create(withMoment(nan))).message).toBe(
      'OrtTrainer.create: state.optimizer is not valid: adamw.loadState: buffer "l1.weight" has NaN at index 7: its values are finite',
    );
    const negative = f32(Array.from({ length }, (_, i) => (i === 3 ? -1 : 0)));
    expect((await create(withMoment(f32(new Array<number>(length).fill(0)), negative))).message).toBe(
      'OrtTrainer.create: state.optimizer is not valid: adamw.loadState: buffer "l1.weight" has -1 at index 3: its values are finite and >= 0',
    );
  });

  test('a state of another model, with or without its fingerprint', async () => {
    const { state } = saved.layernorm!;
    const other = saved.resnet!;
    expect((await refusal(() => OrtTrainer.create(other.model, { loss: other.loss, state }))).message).toBe(
      'OrtTrainer.create: state was saved for another model (its fingerprint differs): resume it with the model it was trained on',
    );
    const version1 = { ...structuredClone(state), version: 1, fingerprint: undefined, updates: undefined } as unknown as OrtTrainerState;
    expect((await refusal(() => OrtTrainer.create(other.model, { loss: other.loss, state: version1 }))).message).toMatch(
      /^OrtTrainer\.create: state\.optimizer is not valid: .*not a parameter/,
    );
  });

  test('missing pending statistics and a missing generator: refused, not silently restarted', async () => {
    const { model, loss, state } = saved.resnet!;
    expect((await refusal(() => OrtTrainer.create(model, { loss, state: { ...state, pendingStatistics: undefined } }))).message).toBe(
      'OrtTrainer.create: state.pendingStatistics is missing: 1 micro-batches are accumulated, and their batch statistics must be applied with them',
    );
    const dropout = saved.layernorm!;
    expect(
      (await refusal(() => OrtTrainer.create(dropout.model, { loss: dropout.loss, state: { ...dropout.state, rng: undefined } }))).message,
    ).toBe('OrtTrainer.create: state.rng is missing: the model has training-mode Dropout, and its masks would start over from the seed');
  });
});
