/**
 * A global norm across shards, in one thread: shards holding parts of one gradient set, connected by
 * inProcessAllReduce, clip exactly (bit for bit) as one pipeline clipping the whole set does. Also the async
 * step itself: stepAsync, the refusals of step, and the reduce's validation.
 * (tests/shardedWorkers.test.ts does the same with real worker threads.)
 */

import {
  clipByGlobalNorm,
  GradientPipeline,
  type Gradients,
  GradpipeError,
  inProcessAllReduce,
  nanGuard,
  type ShardReduce,
} from '@gradpipe/core';
import { float32Factor } from '@gradpipe/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SEED = 42;

/** Float32 values from subnormals to 1e30, both signs, zeros included: the sums cover many binades. */
const value = fc.oneof(
  fc.float({ min: -10, max: 10, noNaN: true }),
  fc.float({ min: Math.fround(-1e-38), max: Math.fround(1e-38), noNaN: true }),
  fc
    .tuple(fc.double({ min: 1, max: 9.99, noNaN: true }), fc.integer({ min: -30, max: 30 }), fc.boolean())
    .map(([m, e, neg]) => Math.fround((neg ? -m : m) * 10 ** e)),
);
const tensorList = fc.array(fc.array(value, { minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 10 });
const normType = fc.constantFrom(1, 2, 3, 1.5, Infinity);
/** Everyday bounds, and bounds in the subnormal range, where the clip factor depends on the total element count. */
const bound = fc.oneof(
  fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
  fc.double({ min: 1e-45, max: 1e-38, noNaN: true }),
  fc.constantFrom(1, 5),
);

function gradsOf(tensors: number[][]): Gradients<Float32Array> {
  return Object.fromEntries(tensors.map((t, i) => [`t${i}`, Float32Array.from(t)]));
}

/** The bits of every output tensor, so that -0 and 0 (and every last ulp) count. */
function bits(grads: Gradients<Float32Array>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, Array.from(new Uint32Array(t.buffer, t.byteOffset, t.length))]));
}

/** Clips `tensors` split over `worldSize` shards (tensor i goes to shard owner[i]), each with its own pipeline. */
async function clipSharded(tensors: number[][], owner: number[], worldSize: number, maxNorm: number, p: number) {
  const reduces = inProcessAllReduce(worldSize);
  const shards = reduces.map((reduce) => ({
    pipe: new GradientPipeline([clipByGlobalNorm({ maxNorm, normType: p, reduce })]),
    grads: {} as Gradients<Float32Array>,
  }));
  tensors.forEach((t, i) => (shards[owner[i]! % worldSize]!.grads[`t${i}`] = Float32Array.from(t)));
  const results = await Promise.all(shards.map((s) => s.pipe.stepAsync(s.grads)));
  const merged: Gradients<Float32Array> = {};
  for (const r of results) Object.assign(merged, r.grads);
  return { merged, transforms: results.map((r) => r.stats.transforms[0]!), results };
}

describe('clipByGlobalNorm({ reduce }) across shards', () => {
  it('gives every shard the bits one process clipping the whole set gets (p = 1, 2, 3, 1.5, Infinity)', async () => {
    await fc.assert(
      fc.asyncProperty(
        tensorList,
        fc.array(fc.nat(3), { minLength: 10, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        bound,
        normType,
        async (tensors, owner, worldSize, maxNorm, p) => {
          const whole = new GradientPipeline([clipByGlobalNorm({ maxNorm, normType: p })]).step(gradsOf(tensors));
          const sharded = await clipSharded(tensors, owner, worldSize, maxNorm, p);
          expect(bits(sharded.merged)).toEqual(bits(whole.grads));
          for (const { figures, clipped } of sharded.transforms) {
            expect(figures.norm).toBe(whole.stats.transforms[0]!.figures.norm);
            expect(figures.factor).toBe(whole.stats.transforms[0]!.figures.factor);
            expect(clipped).toBe(whole.stats.transforms[0]!.clipped);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('pins the example: shards {a: [3]} and {b: [4]} both see the global norm 5 and scale by 1/5', async () => {
    const { merged, transforms } = await clipSharded([[3], [4]], [0, 1], 2, 1, 2);
    // The factor is maxNorm / norm less the typed-array backend's margin for its norm's error (boundSafety), and
    // the tensors are multiplied by it rounded down to float32 (float32Factor).
    const factor = 0.2 * (1 - 2 ** -22);
    expect(transforms.map((t) => t.figures.norm)).toEqual([5, 5]);
    expect(transforms.map((t) => t.figures.factor)).toEqual([factor, factor]);
    expect(merged.t0![0]).toBe(Math.fround(3 * float32Factor(factor)!));
    expect(merged.t1![0]).toBe(Math.fround(4 * float32Factor(factor)!));
  });

  it('L∞ combines by max: one all-reduce, op "max"', async () => {
    const ops: string[][] = [[], []];
    const reduces = inProcessAllReduce(2).map(
      (r, shard): ShardReduce =>
        (partial, op) => (ops[shard]!.push(op), r(partial, op)),
    );
    const [a, b] = await Promise.all([
      new GradientPipeline([clipByGlobalNorm({ maxNorm: 2, normType: Infinity, reduce: reduces[0]! })]).stepAsync({
        a: Float32Array.of(-8, 1),
      }),
      new GradientPipeline([clipByGlobalNorm({ maxNorm: 2, normType: 'inf', reduce: reduces[1]! })]).stepAsync({ b: Float32Array.of(3) }),
    ]);
    expect(ops).toEqual([['max'], ['max']]);
    expect(a.stats.transforms[0]!.figures.norm).toBe(8);
    expect(b.stats.transforms[0]!.figures.norm).toBe(8);
    expect(Array.from(b.grads.b!)).toEqual([Math.fround(3 * float32Factor(0.25 * (1 - 2 ** -22))!)]);
  });

  it('a NaN on one shard makes the global norm NaN on every shard, and nobody scales', async () => {
    const { merged, transforms } = await clipSharded([[NaN, 1], [100]], [0, 1], 2, 1, 2);
    expect(transforms.every((t) => Number.isNaN(t.figures.norm) && !t.clipped)).toBe(true);
    expect(merged.t1![0]).toBe(100);
  });

  it('an infinity on one shard makes it Infinity everywhere', async () => {
    const { transforms } = await clipSharded([[Infinity], [100]], [0, 1], 2, 1, 1);
    expect(transforms.map((t) => t.figures.norm)).toEqual([Infinity, Infinity]);
  });

  it('works after other transforms, and the pipeline figures stay per shard', async () => {
    const [r0, r1] = inProcessAllReduce(2);
    const make = (reduce: ShardReduce) => new GradientPipeline([nanGuard({ policy: 'zero' }), clipByGlobalNorm({ maxNorm: 1, reduce })]);
    const [a, b] = await Promise.all([make(r0!).stepAsync({ a: Float32Array.of(3, NaN) }), make(r1!).stepAsync({ b: Float32Array.of(4) })]);
    expect(a.stats.normBefore).toBeNaN(); // this shard's own incoming norm
    expect(a.stats.transforms[1]!.figures.norm).toBe(5); // the global norm after zeroing
    expect(b.stats.transforms[1]!.figures.norm).toBe(5);
    expect(a.grads.a![1]).toBe(0);
  });
});

describe('GradientPipeline.stepAsync', () => {
  it('gives the same result as step for a synchronous pipeline', async () => {
    const grads = () => ({ w: Float32Array.of(3, 4), b: Float32Array.of(12) });
    const syncResult = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step(grads());
    const asyncResult = await new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).stepAsync(grads());
    expect(bits(asyncResult.grads)).toEqual(bits(syncResult.grads));
    expect(asyncResult.stats).toEqual(syncResult.stats);
  });

  it('refuses a second step while one is running, and steps again afterwards', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const [inner] = inProcessAllReduce(1);
    const slowReduce: ShardReduce = async (partial, op) => {
      await gate;
      return inner!(partial, op);
    };
    const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, reduce: slowReduce })]);
    const first = pipe.stepAsync({ w: Float32Array.of(3, 4) });
    await expect(pipe.stepAsync({ w: Float32Array.of(1) })).rejects.toThrow(
      /GradientPipeline\.stepAsync: a stepAsync of this pipeline is still running/,
    );
    release();
    expect((await first).stats.clipped).toBe(true);
    expect(pipe.stepCount).toBe(1);
    expect((await pipe.stepAsync({ w: Float32Array.of(0.5) })).stats.clipped).toBe(false);
    expect(pipe.stepCount).toBe(2);
  });

  it('keeps state and step count when reduce rejects or resolves with junk', async () => {
    const failing = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, reduce: async () => Promise.reject(new Error('network down')) })]);
    const w = Float32Array.of(3, 4);
    await expect(failing.stepAsync({ w })).rejects.toThrow('network down');
    expect(failing.stepCount).toBe(0);
    expect(Array.from(w)).toEqual([3, 4]);

    const junk = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1, reduce: async () => [1, 2] })]);
    await expect(junk.stepAsync({ w })).rejects.toThrow(
      "clipByGlobalNorm: reduce(partial, 'max') must resolve with 3 non-negative numbers (the element-wise max of every shard's partial), got Array(2)",
    );
    expect(junk.stepCount).toBe(0);
  });
});

describe('GradientPipeline.step with asynchronous transforms', () => {
  it('refuses a sharded clipByGlobalNorm before touching anything', () => {
    const [reduce] = inProcessAllReduce(1);
    const pipe = new GradientPipeline([nanGuard({ policy: 'zero' }), clipByGlobalNorm({ maxNorm: 1, reduce: reduce! })]);
    const w = Float32Array.of(NaN, 4);
    expect(() => pipe.step({ w })).toThrow(GradpipeError);
    expect(() => pipe.step({ w })).toThrow(
      'GradientPipeline.step: transforms[1] (clipByGlobalNorm) is asynchronous: use stepAsync or stepWithAsync',
    );
    expect(Array.from(w)).toEqual([NaN, 4]);
    expect(pipe.stepCount).toBe(0);
  });

  it('refuses a custom transform that returns a promise without declaring it', () => {
    const sneaky = {
      kind: 'sneaky',
      config: {},
      init: () => null,
      update: async (grads: Gradients<unknown>) => ({ grads }),
    };
    const pipe = new GradientPipeline([sneaky as never]);
    expect(() => pipe.step({ w: Float32Array.of(1) })).toThrow(
      'GradientPipeline.step: transforms[0] (sneaky) returned a promise: use stepAsync or stepWithAsync',
    );
    expect(pipe.stepCount).toBe(0);
  });
});

describe('clipByGlobalNorm options for sharding', () => {
  it('rejects a reduce that is not a function', () => {
    expect(() => clipByGlobalNorm({ maxNorm: 1, reduce: 5 as never })).toThrow(
      'clipByGlobalNorm: reduce must be an async function (partial, op) => combined, got 5',
    );
  });

  it('saves as sharded, and fromJSON refuses to rebuild it without its reduce', () => {
    const [reduce] = inProcessAllReduce(1);
    const json = JSON.parse(JSON.stringify(new GradientPipeline([clipByGlobalNorm({ maxNorm: 2, reduce: reduce! })]).toJSON()));
    expect(json.transforms[0].config).toEqual({ maxNorm: 2, normType: 2, sharded: true });
    expect(() => GradientPipeline.fromJSON(json)).toThrow(/clipByGlobalNorm: this transform was saved as sharded and needs its reduce/);
    const restored = GradientPipeline.fromJSON(json, {
      transforms: { clipByGlobalNorm: (config) => clipByGlobalNorm({ ...(config as { maxNorm: number }), reduce: reduce! }) },
    });
    expect(restored.transforms[0]).toMatchObject({ kind: 'clipByGlobalNorm', async: true });
  });

  it('inProcessAllReduce rejects shards that disagree on the op', async () => {
    const [r0, r1] = inProcessAllReduce(2);
    const a = r0!(Float64Array.of(1), 'sum');
    const b = r1!(Float64Array.of(1), 'max');
    await expect(a).rejects.toThrow(/inProcessAllReduce: shard 1 called round 0 with op "max"/);
    await expect(b).rejects.toThrow(GradpipeError);
  });
});
