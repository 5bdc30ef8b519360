import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect, test as plainTest } from 'vitest';
import { distinctValues, seedArb, size } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 25 };
afterAll(() => reportWorst('pooling'));

/** A pooling window: 1 to 3 spatial axes, strides (overlapping windows too), pads smaller than the kernel, ceil_mode. */
const poolArb = fc
  .record({
    spatial: fc.integer({ min: 1, max: 3 }),
    batch: fc.integer({ min: 1, max: 2 }),
    channels: fc.integer({ min: 1, max: 3 }),
    axes: fc.array(
      fc.record({
        size: fc.integer({ min: 2, max: 7 }),
        kernel: fc.integer({ min: 1, max: 3 }),
        stride: fc.integer({ min: 1, max: 3 }),
        begin: fc.nat(2),
        end: fc.nat(2),
      }),
      { minLength: 3, maxLength: 3 },
    ),
    ceil: fc.boolean(),
    autoPad: fc.constantFrom('NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'),
  })
  .map((s) => ({
    ...s,
    axes: s.axes.slice(0, s.spatial).map((a) => {
      const kernel = Math.min(a.kernel, a.size);
      return { ...a, kernel, begin: Math.min(a.begin, kernel - 1), end: Math.min(a.end, kernel - 1) };
    }),
  }))
  // ceil_mode windows that would start in the end padding are refused (ONNX Runtime disagrees with itself there).
  .map((s) => (s.ceil ? { ...s, autoPad: 'NOTSET' } : s))
  .filter((s) => !s.ceil || s.axes.every((a) => Math.ceil((a.size + a.begin + a.end - a.kernel) / a.stride) * a.stride < a.size + a.begin));

type Pool = typeof poolArb extends fc.Arbitrary<infer T> ? T : never;
function attributesOf(s: Pool) {
  return {
    kernel_shape: s.axes.map((a) => a.kernel),
    strides: s.axes.map((a) => a.stride),
    ceil_mode: s.ceil ? 1 : 0,
    ...(s.autoPad === 'NOTSET'
      ? { pads: [...s.axes.map((a) => a.begin), ...s.axes.map((a) => a.end)] }
      : { auto_pad: { string: s.autoPad } }),
  };
}

describe('MaxPool', () => {
  test.prop([poolArb, fc.boolean(), seedArb], RUNS)(
    'overlapping windows, pads, ceil_mode, with or without the Indices output',
    async (s, indices, seed) => {
      const dims = [s.batch, s.channels, ...s.axes.map((a) => a.size)];
      // Distinct values: no ties, and far enough apart that the differences never change which one is the max.
      const check = await checkRule({
        op: 'MaxPool',
        attributes: attributesOf(s),
        inputs: [{ dims, values: distinctValues(size(dims), seed) }],
        outputs: indices ? 2 : 1,
        seed,
        h: 1e-3,
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('MaxPool', check);
    },
  );
});

describe('AveragePool', () => {
  test.prop([poolArb, fc.boolean(), seedArb], RUNS)('pads, ceil_mode and count_include_pad', async (s, includePad, seed) => {
    const dims = [s.batch, s.channels, ...s.axes.map((a) => a.size)];
    const check = await checkRule({
      op: 'AveragePool',
      attributes: { ...attributesOf(s), count_include_pad: includePad ? 1 : 0 },
      inputs: [{ dims }],
      seed,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('AveragePool', check);
  });
});

describe('ceil_mode with a last window in the padding', () => {
  plainTest('is refused with the reason, rather than built on shapes ONNX Runtime gets wrong', async () => {
    await expect(
      checkRule({
        op: 'MaxPool',
        attributes: { kernel_shape: [2], strides: [2], ceil_mode: 1, pads: [1, 1] },
        inputs: [{ dims: [1, 1, 5] }],
        seed: 1,
      }),
    ).rejects.toThrow(
      'buildTrainingModel: cannot differentiate node "under_test" (op MaxPool): ceil_mode with a last window that starts in the padding (axis 2)',
    );
  });
});

describe('global pooling', () => {
  test.prop(
    [
      fc.constantFrom('GlobalAveragePool', 'GlobalMaxPool'),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 5 }),
      seedArb,
    ],
    RUNS,
  )('%s', async (op, dims, seed) => {
    const check = await checkRule({ op, inputs: [{ dims, values: distinctValues(size(dims), seed) }], seed, h: 1e-3 });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst(op, check);
  });
});
