import type { Optimizer } from '@gradpipe/onnxruntime';
import { adam, adamw, optimizerFromJSON, sgd } from '@gradpipe/onnxruntime';
import { afterAll, describe, expect, test } from 'vitest';
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
    [() => sgd({ lr: -1 }), 'sgd: lr must be a finite number >= 0, got -1'],
    [
      () => adamw({ groups: [{ params: 'bias' as never }] }),
      'adamw: groups[0].params must be a RegExp, an array of parameter names or a predicate, got "bias"',
    ],
    [() => adamw({ groups: [{ params: /bias/, weightDecy: 0 } as never] }), 'adamw: unknown option "weightDecy"'],
    [() => adam({ groups: [{ params: /bias/, eps: -1 }] }), 'adam (groups[0]): eps must be a positive finite number, got -1'],
    [() => sgd({ lr: 0, groups: [{ params: /head/, lr: 0.1 }] }), 'sgd: groups[0].lr needs a base lr > 0 (a group keeps its ratio to it)'],
    [() => sgd({ lr: 0.1, nesterov: true }), 'sgd: nesterov needs momentum > 0 and dampening 0 (as in PyTorch)'],
    [() => sgd({ lr: 0.1, momentun: 0.9 } as never), 'sgd: unknown option "momentun"'],
    [() => adam({ betas: [1, 0.999] }), 'adam: betas[0] must be a number in [0, 1), got 1'],
    [() => adamw({ eps: 0 }), 'adamw: eps must be a positive finite number, got 0'],
    [
      () => optimizerFromJSON({ format: 'gradpipe.optimizer', version: 1, kind: 'rmsprop', config: {}, state: {} }),
      'optimizerFromJSON: unknown optimizer kind "rmsprop"',
    ],
  ])('bad input → a clear error (%#)', (build, message) => {
    expect(build).toThrow(message);
  });

  test('a gradient of the wrong length is refused before any weight changes', () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const params = { a: new Float32Array([1, 2]), b: new Float32Array([3]) };
    expect(() => opt.update(params, { a: new Float32Array([1, 1]), b: new Float32Array([1, 1]) })).toThrow(
      'sgd.update: gradient "b" must be a Float32Array of 1 values',
    );
    expect(params.a).toEqual(new Float32Array([1, 2]));
  });

  test('lr is readable and settable between steps; 0 moves nothing; a bad value is refused', () => {
    const opt = sgd({ lr: 0.5 });
    const params = { w: new Float32Array([1, 2]) };
    expect(opt.lr).toBe(0.5);
    opt.lr = 0;
    opt.update(params, { w: new Float32Array([1, 1]) });
    expect(params.w).toEqual(new Float32Array([1, 2]));
    opt.lr = 0.25;
    opt.update(params, { w: new Float32Array([1, 1]) });
    expect(params.w).toEqual(new Float32Array([0.75, 1.75]));
    expect(() => (opt.lr = Number.NaN)).toThrow('sgd.lr: lr must be a finite number >= 0, got NaN');
    expect(opt.lr).toBe(0.25);
  });

  test('a saved state whose buffers do not fit the parameters is refused before any weight changes', () => {
    const opt = adam({ lr: 0.1 });
    opt.update({ w: new Float32Array(3) }, { w: new Float32Array([1, 2, 3]) });
    const saved = JSON.parse(JSON.stringify(opt.toJSON()));
    const params = { w: new Float32Array([1, 2]) };
    expect(() => optimizerFromJSON(saved).update(params, { w: new Float32Array([1, 1]) })).toThrow(
      'adam.bind: the saved buffer of "w" has 3 values, the parameter 2',
    );
    expect(params.w).toEqual(new Float32Array([1, 2]));
    const corrupt = { ...saved, state: { ...saved.state, m: { w: 'not base64!' } } };
    expect(() => optimizerFromJSON(corrupt)).toThrow('adam.loadState: buffer "w" must be base64 of float32 bytes, got "not base64!"');
    const truncated = { ...saved, state: { ...saved.state, m: { w: Buffer.from([1, 2, 3]).toString('base64') } } };
    expect(() => optimizerFromJSON(truncated)).toThrow('adam.loadState: buffer "w" has 3 bytes, not a whole number of float32 values');
  });

  test('AdamW defaults to weight decay 0.01 like torch, Adam to 0', () => {
    expect(adamw().config.weightDecay).toBe(0.01);
    expect(adam().config.weightDecay).toBe(0);
  });
});

interface GroupsFixture {
  initial: Record<string, number[]>;
  grads: Record<string, number[]>[];
  factors: number[];
  adamw: { trajectory: Record<string, number[]>[]; lrs: number[] };
  sgd: { trajectory: Record<string, number[]>[]; lrs: number[] };
}

describe('param groups and a changing lr follow torch.optim param groups under LambdaLR', () => {
  const f = loadJson<GroupsFixture>('param_groups.json');
  test.each([
    [
      'adamw',
      () =>
        adamw({
          lr: 1e-3,
          weightDecay: 0.1,
          groups: [
            { params: /bias$/, weightDecay: 0 },
            { params: ['head'], lr: 1e-2 },
          ],
        }),
    ],
    [
      'sgd',
      () =>
        sgd({
          lr: 0.05,
          momentum: 0.9,
          weightDecay: 0.01,
          groups: [
            { params: (n) => n === 'bias', weightDecay: 0 },
            { params: /^head/, lr: 0.5, momentum: 0.5 },
          ],
        }),
    ],
  ] as const)('%s: no weight decay on the bias, 10x lr for the head, warm-up + cosine', (kind, make) => {
    const run = f[kind];
    let opt = make();
    const base = opt.lr;
    const params = Object.fromEntries(Object.entries(f.initial).map(([n, v]) => [n, Float32Array.from(v)]));
    let worst = 0;
    f.grads.forEach((g, t) => {
      if (t === 4) opt = optimizerFromJSON(JSON.parse(JSON.stringify(opt.toJSON()))); // resumed halfway
      opt.lr = base * f.factors[t]!;
      expect(opt.lr).toBeCloseTo(run.lrs[t]!, 12);
      opt.update(params, Object.fromEntries(Object.entries(g).map(([n, v]) => [n, Float32Array.from(v)])));
      for (const [n, expected] of Object.entries(run.trajectory[t]!)) worst = Math.max(worst, relativeError(params[n]!, expected));
    });
    expect(worst).toBeLessThan(1e-6);
  });
});
