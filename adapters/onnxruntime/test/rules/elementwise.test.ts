import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { awayFromZero, broadcastPairArb, distinctValues, seedArb, shapeArb, size, uniformValues } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 15 };
afterAll(() => reportWorst('element-wise'));

describe('broadcasting arithmetic: gradients summed back to each input shape', () => {
  describe.each(['Add', 'Sub', 'Mul'])('%s', (op) => {
    test.prop([broadcastPairArb, seedArb], RUNS)('gradient = finite differences', async ([a, b], seed) => {
      const check = await checkRule({ op, inputs: [{ dims: a }, { dims: b }], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst(op, check);
    });
  });
  test.prop([broadcastPairArb, seedArb], RUNS)('Div', async ([a, b], seed) => {
    const check = await checkRule({ op: 'Div', inputs: [{ dims: a }, { dims: b, values: awayFromZero(size(b), seed, 0.5) }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Div', check);
  });
  test.prop([broadcastPairArb, seedArb], RUNS)('Pow with a tensor exponent', async ([a, b], seed) => {
    const check = await checkRule({
      op: 'Pow',
      inputs: [
        { dims: a, values: uniformValues(size(a), seed, 0.5, 2) },
        { dims: b, values: uniformValues(size(b), seed + 1, -2, 2) },
      ],
      seed,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Pow', check);
  });
  test.prop([shapeArb(0, 3), fc.constantFrom(2, 3, 0.5, -1, 1), seedArb], RUNS)(
    'Pow with a constant exponent %#',
    async (dims, k, seed) => {
      const check = await checkRule({
        op: 'Pow',
        inputs: [
          { dims, values: uniformValues(size(dims), seed, 0.5, 2) },
          { dims: [], values: [k], constant: true },
        ],
        seed,
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Pow', check);
    },
  );
  // A third operand that broadcasts against anything: a scalar or [1].
  describe.each(['Sum', 'Mean', 'Max', 'Min'])('variadic %s', (op) => {
    test.prop([broadcastPairArb, fc.constantFrom<number[]>([], [1]), seedArb], RUNS)(
      'gradient = finite differences',
      async ([a, b], c, seed) => {
        const values = distinctValues(size(a) + size(b) + size(c), seed);
        const check = await checkRule({
          op,
          inputs: [
            { dims: a, values: values.slice(0, size(a)) },
            { dims: b, values: values.slice(size(a), size(a) + size(b)) },
            { dims: c, values: values.slice(size(a) + size(b)) },
          ],
          seed,
          h: 1e-3,
        });
        expect(worstError(check)).toBeLessThan(TOLERANCE);
        recordWorst(op, check);
      },
    );
  });
});

describe('unary math', () => {
  const positive = new Set(['Sqrt', 'Log']);
  describe.each(['Neg', 'Abs', 'Reciprocal', 'Sqrt', 'Exp', 'Log', 'Erf', 'Sin', 'Cos'])('%s', (op) => {
    test.prop([shapeArb(0, 3), seedArb], { seed: 42, numRuns: 5 })('gradient = finite differences', async (dims, seed) => {
      const n = size(dims);
      const values = positive.has(op)
        ? uniformValues(n, seed, 0.3, 3)
        : op === 'Reciprocal' || op === 'Abs'
          ? awayFromZero(n, seed, 0.3)
          : undefined;
      const check = await checkRule({ op, inputs: [{ dims, ...(values ? { values } : {}) }], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst(op, check);
    });
  });
});
