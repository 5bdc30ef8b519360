import { afterAll, describe, expect, test } from 'vitest';
import { adam, adamw, optimizerFromJSON, sgd } from '@gradpipe/onnxruntime';
import type { Optimizer } from '@gradpipe/onnxruntime';
import { loadJson, relativeError } from './fixtures.js';

interface OptimizerFixture {
  torch: string;
  initial: number[];
  grads: number[][];
  runs: { optimizer: 'sgd' | 'adam' | 'adamw'; options: Record<string, unknown>; trajectory: number[][] }[];
}

const fixture = loadJson<OptimizerFixture>('optimizers.json');
let worstOverall = 0;
afterAll(() => console.log('optimizers vs torch.optim: worst relative deviation', worstOverall));
const make = (kind: string, options: Record<string, unknown>): Optimizer => ({ sgd, adam, adamw })[kind as 'sgd'](options as never);

describe.each(fixture.runs.map((r) => [`${r.optimizer} ${JSON.stringify(r.options)}`, r] as const))('%s follows torch.optim', (_, run) => {
  test('every step of the trajectory matches (float32 rounding)', () => {
    const opt = make(run.optimizer, run.options);
    const params = { p: Float32Array.from(fixture.initial) };
    let worst = 0;
    run.trajectory.forEach((expected, i) => {
      opt.update(params, { p: Float32Array.from(fixture.grads[i]!) });
      worst = Math.max(worst, relativeError(params.p, expected));
    });
    // torch rounds after every float32 operation, we once per stored value: a few ulps apart at most.
    worstOverall = Math.max(worstOverall, worst);
    expect(worst).toBeLessThan(1e-6);
  });

  test('saved halfway and resumed, the trajectory is bit-identical', () => {
    const straight = make(run.optimizer, run.options);
    const a = { p: Float32Array.from(fixture.initial) };
    fixture.grads.forEach((g) => straight.update(a, { p: Float32Array.from(g) }));

    let first = make(run.optimizer, run.options);
    const b = { p: Float32Array.from(fixture.initial) };
    fixture.grads.forEach((g, i) => {
      if (i === 3) first = optimizerFromJSON(JSON.parse(JSON.stringify(first.toJSON())));
      first.update(b, { p: Float32Array.from(g) });
    });
    expect(b.p).toEqual(a.p);
  });
});

describe('optimizer options', () => {
  test.each([
    [() => sgd({ lr: -1 }), 'sgd: lr must be a positive finite number, got -1'],
    [() => sgd({ lr: 0.1, nesterov: true }), 'sgd: nesterov needs momentum > 0 and dampening 0 (as in PyTorch)'],
    [() => sgd({ lr: 0.1, momentun: 0.9 } as never), 'sgd: unknown option "momentun"'],
    [() => adam({ betas: [1, 0.999] }), 'adam: betas[0] must be a number in [0, 1), got 1'],
    [() => adamw({ eps: 0 }), 'adamw: eps must be a positive finite number, got 0'],
    [() => optimizerFromJSON({ format: 'gradpipe.optimizer', version: 1, kind: 'rmsprop', config: {}, state: {} }), 'optimizerFromJSON: unknown optimizer kind "rmsprop"'],
  ])('bad input → a clear error (%#)', (build, message) => {
    expect(build).toThrow(message);
  });

  test('a gradient of the wrong length is refused before any weight changes', () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const params = { a: new Float32Array([1, 2]), b: new Float32Array([3]) };
    expect(() => opt.update(params, { a: new Float32Array([1, 1]), b: new Float32Array([1, 1]) })).toThrow('sgd.update: gradient "b" must be a Float32Array of 1 values');
    expect(params.a).toEqual(new Float32Array([1, 2]));
  });

  test('AdamW defaults to weight decay 0.01 like torch, Adam to 0', () => {
    expect(adamw().config.weightDecay).toBe(0.01);
    expect(adam().config.weightDecay).toBe(0);
  });
});
