import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { broadcastPairArb, seedArb, shapeArb, size, uniformValues } from '../support/arbitraries.js';
import type { CaseInput } from '../support/gradientCheck.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 12 };
afterAll(() => reportWorst('indexing and selection'));
const ints = (dims: number[], values: number[], fed = false): CaseInput => ({ dims, values, type: 'int64', fed });
const indicesIn = (n: number, dim: number, seed: number) => uniformValues(n, seed, -dim, dim - 1e-9).map(Math.floor);

describe('Gather', () => {
  test.prop([shapeArb(1, 3), shapeArb(0, 2), fc.nat(), fc.boolean(), seedArb], RUNS)(
    'any axis, negative and repeated indices (known or fed), scalar or N-D indices',
    async (data, indexDims, axisSeed, fed, seed) => {
      const axis = axisSeed % data.length;
      // More indices than rows: some repeat, and their gradients must add up.
      const indices = indicesIn(size(indexDims), data[axis]!, seed);
      const check = await checkRule({ op: 'Gather', attributes: { axis }, inputs: [{ dims: data }, ints(indexDims, indices, fed)], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Gather', check);
    },
  );
  test.prop([fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 8 }), seedArb], RUNS)(
    'an embedding lookup with repeated words',
    async (vocab, width, words, seed) => {
      const indices = uniformValues(2 * words, seed, 0, vocab - 1e-9).map(Math.floor);
      const check = await checkRule({ op: 'Gather', inputs: [{ dims: [vocab, width] }, ints([2, words], indices, true)], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Gather', check);
    },
  );
});

describe('GatherElements', () => {
  test.prop([shapeArb(1, 3), fc.nat(), seedArb], RUNS)('any axis, repeated and negative indices', async (data, axisSeed, seed) => {
    const axis = axisSeed % data.length;
    const indexDims = data.map((d, i) => (i === axis ? d + 1 : d));
    const check = await checkRule({
      op: 'GatherElements',
      attributes: { axis },
      inputs: [{ dims: data }, ints(indexDims, indicesIn(size(indexDims), data[axis]!, seed))],
      seed,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('GatherElements', check);
  });
});

/** A slice of a shape: per axis start, end and step (any sign), for a subset of the axes. */
const sliceArb = shapeArb(1, 3, 6).chain((dims) =>
  fc.tuple(
    fc.constant(dims),
    fc.uniqueArray(fc.integer({ min: 0, max: dims.length - 1 }), { minLength: 1, maxLength: dims.length }),
    fc.array(fc.tuple(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -8, max: 8 }), fc.constantFrom(1, 1, 2, -1, -2, 3)), {
      minLength: 3,
      maxLength: 3,
    }),
  ),
);

describe('Slice', () => {
  test.prop([sliceArb, fc.constantFrom('known', 'fed'), seedArb], RUNS)(
    'any starts, ends, axes and steps, known or fed',
    async ([dims, axes, bounds], how, seed) => {
      const picked = axes.map((_, i) => bounds[i]!);
      const fed = how === 'fed';
      const inputs = [
        { dims },
        ints(
          [axes.length],
          picked.map((b) => b[0]),
          fed,
        ),
        ints(
          [axes.length],
          picked.map((b) => (b[1] === 8 ? 2 ** 40 : b[1])),
          fed,
        ),
        ints([axes.length], axes, fed),
        ints(
          [axes.length],
          picked.map((b) => b[2]),
          fed,
        ),
      ];
      const check = await checkRule({ op: 'Slice', inputs, seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Slice', check);
    },
  );
  test.prop([shapeArb(2, 3, 5), seedArb], RUNS)('steps of 1 on known sizes (the Pad rule)', async (dims, seed) => {
    const check = await checkRule({
      op: 'Slice',
      inputs: [{ dims }, ints([2], [1, 0]), ints([2], [-1, 2 ** 40]), ints([2], [0, 1])],
      seed,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Slice', check);
  });
});

describe('Pad', () => {
  test.prop(
    [shapeArb(1, 3, 5).filter((d) => d.every((x) => x >= 3)), fc.constantFrom('constant', 'reflect', 'edge'), fc.boolean(), seedArb],
    RUNS,
  )('%s mode, pads known or fed', async (dims, mode, fed, seed) => {
    const rank = dims.length;
    // Reflect needs pads smaller than the dim; constant may also crop (negative pads).
    const pads = Array.from({ length: 2 * rank }, (_, i) => ((seed >> i) % 3) - (mode === 'constant' ? 1 : 0));
    const check = await checkRule({
      op: 'Pad',
      attributes: { mode: { string: mode } },
      inputs: [{ dims }, ints([2 * rank], pads, fed)],
      seed,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Pad', check);
  });
  test.prop([shapeArb(2, 4, 4), seedArb], RUNS)('opset 10 (pads as attribute), upgraded', async (dims, seed) => {
    const pads = dims.flatMap(() => [1]).concat(dims.map(() => 2));
    const check = await checkRule({ op: 'Pad', attributes: { pads, mode: { string: 'constant' } }, inputs: [{ dims }], seed, opset: 10 });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Pad', check);
  });
});

describe('Where', () => {
  test.prop([broadcastPairArb, seedArb], RUNS)('both branches broadcast against the condition', async ([a, b], seed) => {
    const condDims = a.length >= b.length ? a : b;
    const cond = { dims: condDims, values: uniformValues(size(condDims), seed, 0, 2).map(Math.floor), type: 'bool' as const };
    const check = await checkRule({ op: 'Where', inputs: [cond, { dims: a }, { dims: b }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Where', check);
  });
});
