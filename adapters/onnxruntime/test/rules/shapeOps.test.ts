import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { seedArb, shapeArb } from '../support/arbitraries.js';
import type { CaseInput } from '../support/gradientCheck.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 10 };
afterAll(() => reportWorst('shape and copying'));
const ints = (values: number[], fed = false): CaseInput => ({ dims: [values.length], values, type: 'int64', fed });

describe('moving elements around', () => {
  test.prop([shapeArb(1, 4), fc.boolean(), fc.boolean(), seedArb], RUNS)(
    'Reshape with 0 and −1 (target known or fed at run time)',
    async (dims, useZero, fed, seed) => {
      const target = [useZero ? 0 : dims[0]!, -1];
      const check = await checkRule({ op: 'Reshape', inputs: [{ dims }, ints(target, fed)], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Reshape', check);
    },
  );
  test.prop([shapeArb(1, 4), fc.integer({ min: 0, max: 4 }), seedArb], RUNS)('Flatten at any axis', async (dims, axis, seed) => {
    const check = await checkRule({ op: 'Flatten', attributes: { axis: axis % (dims.length + 1) }, inputs: [{ dims }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Flatten', check);
  });
  test.prop([shapeArb(1, 3), fc.constantFrom(11, 13, 17), seedArb], RUNS)(
    'Unsqueeze then Squeeze, axes as attribute (opset 11) or input',
    async (dims, opset, seed) => {
      const axes = [0, dims.length + 1];
      const inputs = opset >= 13 ? [{ dims }, ints(axes)] : [{ dims }];
      const attributes: Record<string, number[]> = opset >= 13 ? {} : { axes };
      const check = await checkRule({
        op: 'Unsqueeze',
        attributes,
        inputs,
        seed,
        opset,
        then: [{ op: 'Squeeze', attributes: opset >= 13 ? {} : { axes: [0] } }],
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Unsqueeze', check);
      recordWorst('Squeeze', check);
    },
  );
  test.prop(
    [
      shapeArb(0, 4).chain((d) =>
        fc.tuple(fc.constant(d), fc.shuffledSubarray([...d.keys()], { minLength: d.length, maxLength: d.length })),
      ),
      seedArb,
    ],
    RUNS,
  )('Transpose with any permutation', async ([dims, perm], seed) => {
    const check = await checkRule({ op: 'Transpose', attributes: { perm }, inputs: [{ dims }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Transpose', check);
  });
  test.prop([shapeArb(0, 3), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }), fc.boolean(), seedArb], RUNS)(
    'Expand to a wider and longer shape',
    async (dims, lead, fed, seed) => {
      const ones = dims.map((d, i) => (i % 2 ? 1 : d));
      const target = [...lead, ...dims];
      const check = await checkRule({ op: 'Expand', inputs: [{ dims: ones }, ints(target, fed)], seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Expand', check);
    },
  );
  test.prop([shapeArb(1, 3), fc.boolean(), seedArb], RUNS)('Tile (repeats known or fed)', async (dims, fed, seed) => {
    const repeats = dims.map((_, i) => 1 + (i % 3));
    const check = await checkRule({ op: 'Tile', inputs: [{ dims }, ints(repeats, fed)], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Tile', check);
  });
  test.prop([shapeArb(1, 3), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat(), seedArb], RUNS)(
    'Concat on any axis',
    async (dims, sizes, axisSeed, seed) => {
      const axis = axisSeed % dims.length;
      const inputs = sizes.map((s) => ({ dims: dims.map((d, i) => (i === axis ? s : d)) }));
      const check = await checkRule({ op: 'Concat', attributes: { axis: axisSeed % 2 ? axis - dims.length : axis }, inputs, seed });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Concat', check);
    },
  );
  test.prop(
    [
      shapeArb(1, 3),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.constantFrom('all', 'first', 'last'),
      seedArb,
    ],
    RUNS,
  )('Split into given sizes, the gradient arriving on some outputs only', async (dims, sizes, axisSeed, used, seed) => {
    const axis = axisSeed % dims.length;
    const shape = dims.map((d, i) => (i === axis ? sizes.reduce((a, b) => a + b, 0) : d));
    const outputs = sizes.length;
    const lossOn = used === 'all' ? [...sizes.keys()] : used === 'first' ? [0] : [outputs - 1];
    const check = await checkRule({ op: 'Split', attributes: { axis }, inputs: [{ dims: shape }, ints(sizes)], outputs, lossOn, seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Split', check);
  });
  test.prop([shapeArb(1, 3), seedArb], RUNS)('Split in equal parts (opset 11, split as attribute)', async (dims, seed) => {
    const shape = [...dims.slice(0, -1), dims[dims.length - 1]! * 2];
    const check = await checkRule({
      op: 'Split',
      attributes: { axis: -1 },
      inputs: [{ dims: shape }],
      outputs: 2,
      lossOn: [0, 1],
      seed,
      opset: 11,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Split', check);
  });
  test.prop([shapeArb(0, 3), seedArb], RUNS)('Cast to float64 and back', async (dims, seed) => {
    const check = await checkRule({
      op: 'Cast',
      attributes: { to: 11 },
      inputs: [{ dims }],
      seed,
      then: [{ op: 'Cast', attributes: { to: 1 } }],
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Cast', check);
  });
  test.prop([shapeArb(0, 3), seedArb], RUNS)('CastLike to float64 and back', async (dims, seed) => {
    const like = { dims: [1], values: [0], type: 'float32' as const, constant: true };
    const check = await checkRule({
      op: 'CastLike',
      inputs: [{ dims }, like],
      seed,
      then: [
        { op: 'Cast', attributes: { to: 11 } },
        { op: 'Cast', attributes: { to: 1 } },
      ],
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('CastLike', check);
  });
  test.prop([shapeArb(0, 3), seedArb], RUNS)('Identity', async (dims, seed) => {
    const check = await checkRule({ op: 'Identity', inputs: [{ dims }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Identity', check);
  });
});
