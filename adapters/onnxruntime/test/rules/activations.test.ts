import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { awayFromZero, broadcastPairArb, seedArb, shapeArb, size, uniformValues } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 10 };
afterAll(() => reportWorst('activations and softmax'));

// Kinks (ReLU and friends at 0, HardSigmoid and HardSwish at ±3, Clip at its bounds) are kept farther from
// the inputs than the differences reach.
const kinked: Record<string, (n: number, seed: number) => number[]> = {
  Relu: (n, s) => awayFromZero(n, s),
  LeakyRelu: (n, s) => awayFromZero(n, s),
  PRelu: (n, s) => awayFromZero(n, s),
  Elu: (n, s) => awayFromZero(n, s),
  Selu: (n, s) => awayFromZero(n, s),
  Celu: (n, s) => awayFromZero(n, s),
  ThresholdedRelu: (n, s) => awayFromZero(n, s).map((v) => v + 1),
  HardSigmoid: (n, s) => awayFromZero(n, s).map((v) => v * 1.5),
  Softsign: (n, s) => awayFromZero(n, s),
  HardSwish: (n, s) => uniformValues(n, s, -2.8, 2.8).map((v) => (Math.abs(v) < 0.1 ? v + 0.3 : v)),
};

describe('activations', () => {
  const ops = [
    'Relu',
    'LeakyRelu',
    'Sigmoid',
    'Tanh',
    'Softplus',
    'Softsign',
    'Elu',
    'Selu',
    'Celu',
    'HardSigmoid',
    'HardSwish',
    'ThresholdedRelu',
    'Mish',
  ];
  const attributes: Record<string, Record<string, { float: number }>> = {
    LeakyRelu: { alpha: { float: 0.2 } },
    Elu: { alpha: { float: 0.7 } },
    Celu: { alpha: { float: 1.5 } },
    HardSigmoid: { alpha: { float: 0.3 }, beta: { float: 0.4 } },
  };
  describe.each(ops)('%s', (op) => {
    test.prop([shapeArb(0, 3), seedArb], { seed: 42, numRuns: 5 })('gradient = finite differences', async (dims, seed) => {
      const values = kinked[op]?.(size(dims), seed);
      const opset = op === 'Mish' ? 18 : 17;
      const check = await checkRule({
        op,
        attributes: attributes[op] ?? {},
        inputs: [{ dims, ...(values ? { values } : {}) }],
        seed,
        opset,
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst(op, check);
    });
  });
  test.prop([fc.constantFrom('none', 'tanh'), shapeArb(0, 3), seedArb], RUNS)(
    'Gelu (opset 20), approximate %s',
    async (approximate, dims, seed) => {
      const check = await checkRule({
        op: 'Gelu',
        attributes: { approximate: { string: approximate } },
        inputs: [{ dims }],
        seed,
        opset: 20,
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Gelu', check);
    },
  );
  test.prop(
    [broadcastPairArb.filter(([a, b]) => b.length <= a.length && b.every((d, i) => d === 1 || d === a[a.length - b.length + i])), seedArb],
    RUNS,
  )('PRelu with a broadcast slope, gradients to both', async ([x, slope], seed) => {
    const check = await checkRule({ op: 'PRelu', inputs: [{ dims: x, values: awayFromZero(size(x), seed) }, { dims: slope }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('PRelu', check);
  });
  test.prop([shapeArb(0, 3), fc.constantFrom('both', 'min', 'max'), seedArb], RUNS)(
    'Clip with %s bounds as inputs',
    async (dims, bounds, seed) => {
      // Values on a grid between the bounds ±0.55 and ±0.45 never come within 0.05 of them.
      const values = uniformValues(size(dims), seed, -2, 2).map((v) => (Math.abs(Math.abs(v) - 0.5) < 0.05 ? v * 1.3 : v));
      const min = bounds !== 'max' ? { dims: [], values: [-0.5], constant: true } : null;
      const max = bounds !== 'min' ? { dims: [], values: [0.5], constant: true } : null;
      const check = await checkRule({ op: 'Clip', inputs: [{ dims, values }, min, max], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Clip', check);
    },
  );
});

describe('softmax on any axis', () => {
  test.prop([fc.constantFrom('Softmax', 'LogSoftmax'), shapeArb(1, 4), fc.integer({ min: 0, max: 3 }), seedArb], RUNS)(
    '%s',
    async (op, dims, axisSeed, seed) => {
      const axis = (axisSeed % dims.length) - (axisSeed % 2 ? dims.length : 0); // negative axes too
      const check = await checkRule({ op, attributes: { axis }, inputs: [{ dims }], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst(op, check);
    },
  );
  test.prop([fc.constantFrom('Softmax', 'LogSoftmax'), shapeArb(2, 4), seedArb], RUNS)(
    '%s of opset 11 (flattened from the axis), upgraded',
    async (op, dims, seed) => {
      const check = await checkRule({ op, attributes: { axis: 1 }, inputs: [{ dims }], seed, opset: 11 });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst(op, check);
    },
  );
});
