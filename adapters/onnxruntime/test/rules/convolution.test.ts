import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { seedArb } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 25 };
afterAll(() => reportWorst('convolution'));

/** A convolution: 1 to 3 spatial axes, groups (depthwise too), strides, dilations, pads or auto_pad. */
const convArb = fc
  .record({
    spatial: fc.integer({ min: 1, max: 3 }),
    batch: fc.integer({ min: 1, max: 2 }),
    groups: fc.constantFrom(1, 1, 2, 'depthwise' as const),
    perGroupIn: fc.integer({ min: 1, max: 2 }),
    perGroupOut: fc.integer({ min: 1, max: 2 }),
    axes: fc.array(
      fc.record({
        size: fc.integer({ min: 3, max: 7 }),
        kernel: fc.integer({ min: 1, max: 3 }),
        stride: fc.integer({ min: 1, max: 3 }),
        dilation: fc.integer({ min: 1, max: 2 }),
        begin: fc.integer({ min: 0, max: 2 }),
        end: fc.integer({ min: 0, max: 2 }),
      }),
      { minLength: 3, maxLength: 3 },
    ),
    autoPad: fc.constantFrom('NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'),
    bias: fc.boolean(),
  })
  .map((s) => {
    // ONNX Runtime refuses dilations with auto_pad SAME.
    const same = s.autoPad.startsWith('SAME');
    const axes = s.axes.slice(0, s.spatial).map((a) => {
      const dilation = same ? 1 : a.dilation;
      return { ...a, dilation, kernel: Math.min(a.kernel, Math.floor((a.size - 1) / dilation) + 1) };
    });
    const group = s.groups === 'depthwise' ? 2 + s.perGroupIn : s.groups;
    const perGroupIn = s.groups === 'depthwise' ? 1 : s.perGroupIn;
    return { ...s, axes, group, channels: group * perGroupIn, perGroupIn, filters: group * s.perGroupOut };
  });

describe('Conv', () => {
  test.prop([convArb, seedArb], RUNS)('gradients to input, weight and bias', async (s, seed) => {
    const attributes = {
      group: s.group,
      strides: s.axes.map((a) => a.stride),
      dilations: s.axes.map((a) => a.dilation),
      ...(s.autoPad === 'NOTSET'
        ? { pads: [...s.axes.map((a) => a.begin), ...s.axes.map((a) => a.end)] }
        : { auto_pad: { string: s.autoPad } }),
    };
    const inputs = [
      { dims: [s.batch, s.channels, ...s.axes.map((a) => a.size)] },
      { dims: [s.filters, s.perGroupIn, ...s.axes.map((a) => a.kernel)] },
      s.bias ? { dims: [s.filters] } : null,
    ];
    const check = await checkRule({ op: 'Conv', attributes, inputs, seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Conv', check);
  });
});

describe('ConvTranspose', () => {
  test.prop([convArb, seedArb], RUNS)('gradients to input, weight and bias (pads, output_padding, groups)', async (s, seed) => {
    const attributes = {
      group: s.group,
      strides: s.axes.map((a) => a.stride),
      dilations: s.axes.map((a) => a.dilation),
      pads: [...s.axes.map((a) => Math.min(a.begin, a.kernel - 1)), ...s.axes.map((a) => Math.min(a.end, a.kernel - 1))],
      output_padding: s.axes.map((a) => (a.stride > 1 ? a.stride - 1 : 0)),
    };
    const inputs = [
      { dims: [s.batch, s.channels, ...s.axes.map((a) => a.size - 1)] },
      { dims: [s.channels, s.perGroupOut, ...s.axes.map((a) => a.kernel)] },
      s.bias ? { dims: [s.group * s.perGroupOut] } : null,
    ];
    const check = await checkRule({ op: 'ConvTranspose', attributes, inputs, seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('ConvTranspose', check);
  });
});
