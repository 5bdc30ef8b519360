import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { seedArb, shapeArb, uniformValues } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 15 };
afterAll(() => reportWorst('normalization'));

describe('BatchNormalization (inference form)', () => {
  test.prop([fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), shapeArb(0, 2), seedArb], RUNS)(
    'gradients to x, scale and bias',
    async (n, c, spatial, seed) => {
      const channel = (values?: number[]) => ({ dims: [c], ...(values ? { values } : {}) });
      const inputs = [
        { dims: [n, c, ...spatial] },
        channel(),
        channel(),
        { ...channel(), constant: true },
        { ...channel(uniformValues(c, seed, 0.5, 2)), constant: true },
      ];
      const check = await checkRule({ op: 'BatchNormalization', attributes: { epsilon: { float: 1e-2 } }, inputs, seed, h: 2e-3 });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('BatchNormalization', check);
    },
  );
});

describe('LayerNormalization (opset 17)', () => {
  test.prop([shapeArb(1, 4).filter((d) => d.length >= 1), fc.nat(), fc.boolean(), seedArb], RUNS)(
    'any axis, with or without bias',
    async (dims, axisSeed, bias, seed) => {
      const axis = axisSeed % dims.length;
      const normalized = dims.slice(axis);
      // Spread-out values keep the variance away from 0 (where 1/σ makes differences meaningless).
      const values = uniformValues(
        dims.reduce((a, b) => a * b, 1),
        seed,
        -2,
        2,
      );
      const inputs = [{ dims, values }, { dims: normalized }, bias ? { dims: normalized } : null];
      const check = await checkRule({
        op: 'LayerNormalization',
        attributes: { axis: axisSeed % 2 ? axis - dims.length : axis, epsilon: { float: 1e-2 } },
        inputs,
        seed,
        h: 2e-3,
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('LayerNormalization', check);
    },
  );
});

describe('InstanceNormalization', () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 3 }),
      shapeArb(1, 2).filter((d) => d.reduce((a, b) => a * b, 1) > 1),
      seedArb,
    ],
    RUNS,
  )('gradients to x, scale and bias', async (n, c, spatial, seed) => {
    const check = await checkRule({
      op: 'InstanceNormalization',
      attributes: { epsilon: { float: 1e-2 } },
      inputs: [{ dims: [n, c, ...spatial] }, { dims: [c] }, { dims: [c] }],
      seed,
      h: 2e-3,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('InstanceNormalization', check);
  });
});
