import { test as propTest } from '@fast-check/vitest';
import { clipByGlobalNorm, GradientAccumulator, GradientPipeline } from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

const microBatches = fc
  .integer({ min: 1, max: 6 })
  .chain((k) =>
    fc.tuple(
      fc.constant(k),
      fc.array(fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: k, maxLength: k }),
    ),
  );

describe('GradientAccumulator', () => {
  propTest.prop([microBatches, fc.constantFrom<'mean' | 'sum'>('mean', 'sum')], { seed: 42, numRuns: 300 })(
    'releases once per `every` micro-batches their mean (or sum), computed in float64',
    ([k, batches], reduction) => {
      const acc = new GradientAccumulator({ every: k, reduction });
      let out: Record<string, Float32Array> | undefined;
      batches.forEach((b, i) => {
        const given = Float32Array.from(b);
        const copy = given.slice();
        out = acc.add({ g: given });
        expect(given).toEqual(copy); // the caller's arrays are only read
        expect(out === undefined).toBe(i < k - 1);
      });
      const expected = [0, 1, 2].map((j) => batches.reduce((s, b) => s + Math.fround(b[j]!), 0) / (reduction === 'mean' ? k : 1));
      expected.forEach((e, j) => expect(out!.g![j]).toBe(Math.fround(e)));
      expect(acc.pending).toBe(0);
    },
  );

  propTest.prop([microBatches, fc.nat()], { seed: 42, numRuns: 200 })(
    'saved mid-accumulation and resumed, releases the same gradients bit for bit',
    ([k, batches], cut) => {
      const straight = new GradientAccumulator({ every: k });
      const outs = batches.map((b) => straight.add({ g: Float32Array.from(b) }));
      let resumed = new GradientAccumulator({ every: k });
      const at = cut % batches.length;
      const again = batches.map((b, i) => {
        if (i === at) resumed = GradientAccumulator.fromJSON(JSON.parse(JSON.stringify(resumed)));
        return resumed.add({ g: Float32Array.from(b) });
      });
      expect(again).toEqual(outs);
    },
  );

  test('clipping runs once, on the accumulated gradient', () => {
    const acc = new GradientAccumulator({ every: 2 });
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    expect(acc.add({ w: new Float32Array([0.6, 0]) })).toBeUndefined();
    const grads = acc.add({ w: new Float32Array([5.4, 8]) })!; // mean [3, 4], norm 5
    const { stats } = pipe.step(grads);
    expect(stats.normBefore).toBe(5);
    expect(stats.clipped).toBe(true);
    expect(pipe.stepCount).toBe(1);
  });

  test('bad input and corrupt state get clear errors', () => {
    expect(() => new GradientAccumulator({ every: 0 })).toThrow('GradientAccumulator: every must be an integer >= 1, got 0');
    expect(() => new GradientAccumulator({ every: 2, mean: true } as never)).toThrow('GradientAccumulator: unknown option "mean"');
    const acc = new GradientAccumulator({ every: 3 });
    acc.add({ a: new Float32Array(2) });
    expect(() => acc.add({ a: new Float32Array(3) })).toThrow(
      'GradientAccumulator.add: gradient "a" does not match the earlier micro-batches (2 values)',
    );
    expect(() => acc.add({ a: new Float32Array(2), b: new Float32Array(1) })).toThrow(
      'GradientAccumulator.add: gradient "b" does not match the earlier micro-batches (absent)',
    );
    const saved = JSON.parse(JSON.stringify(acc));
    expect(() => GradientAccumulator.fromJSON({ ...saved, pending: 3 })).toThrow(
      'GradientAccumulator.fromJSON: pending must be an integer in [0, 2], got 3',
    );
    expect(() => GradientAccumulator.fromJSON({ ...saved, sums: { a: 'x y' } })).toThrow(
      'GradientAccumulator.fromJSON: sums.a must be base64 of float64 bytes, got "x y"',
    );
    expect(() => GradientAccumulator.fromJSON({ ...saved, sums: {} })).toThrow(
      'GradientAccumulator.fromJSON: pending (1) and sums (0 gradients) disagree',
    );
  });
});
