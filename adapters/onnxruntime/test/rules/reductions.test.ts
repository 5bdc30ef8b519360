import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { distinctValues, seedArb, shapeArb, size } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
afterAll(() => reportWorst('reductions'));

/** A shape and a set of its axes (possibly negative, possibly none = all). */
const reductionArb = shapeArb(1, 4).chain((dims) =>
  fc
    .tuple(
      fc.constant(dims),
      fc.option(fc.uniqueArray(fc.integer({ min: 0, max: dims.length - 1 }), { minLength: 1, maxLength: dims.length }), { nil: undefined }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([d, axes, keep, negative]) => ({ dims: d, axes: axes?.map((a) => (negative ? a - d.length : a)), keepdims: keep ? 1 : 0 })),
);

describe.each(['ReduceSum', 'ReduceMean', 'ReduceSumSquare', 'ReduceMax', 'ReduceMin', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp'])(
  '%s',
  (op) => {
    test.prop([reductionArb, fc.constantFrom(13, 17, 18), seedArb], { seed: 42, numRuns: 8 })(
      'any axes, keepdims or not, opsets 13, 17 and 18',
      async ({ dims, axes, keepdims }, opset, seed) => {
        // Axes are an input for ReduceSum from 13 and for the others from 18.
        const asInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
        const axesInput = axes && asInput ? { dims: [axes.length], values: axes, type: 'int64' as const } : null;
        const attributes = { keepdims, ...(axes && !asInput ? { axes } : {}) };
        // Distinct values: no ties for max/min; away from 0 for L1's kink.
        const values = distinctValues(size(dims), seed, 0.25).map((v) => (op === 'ReduceL1' && Math.abs(v) < 0.1 ? v + 0.5 : v));
        const check = await checkRule({ op, attributes, inputs: [{ dims, values }, axesInput], seed, opset, h: 1e-3 });
        expect(worstError(check)).toBeLessThan(TOLERANCE);
        recordWorst(op, check);
      },
    );
  },
);
