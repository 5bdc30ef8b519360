import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { seedArb, size, uniformValues } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 20 };
afterAll(() => reportWorst('recurrent'));

const GATES = { LSTM: 4, GRU: 3, RNN: 1 } as const;

/** A recurrent node: directions, optional bias and initial states, and which outputs the loss reads. */
const recurrentArb = (cell: keyof typeof GATES) =>
  fc.record({
    steps: fc.integer({ min: 1, max: 5 }),
    batch: fc.integer({ min: 1, max: 3 }),
    input: fc.integer({ min: 1, max: 3 }),
    hidden: fc.integer({ min: 1, max: 3 }),
    direction: fc.constantFrom('forward', 'reverse', 'bidirectional'),
    bias: fc.boolean(),
    initial: fc.boolean(),
    // Y, Y_h, Y_c (LSTM) in the loss; the model may leave Y out when only the last states are read
    outputs: fc.subarray(cell === 'LSTM' ? [0, 1, 2] : [0, 1], { minLength: 1 }),
    omitY: fc.boolean(),
    linearBeforeReset: fc.boolean(),
    relu: fc.boolean(),
  });

describe.each(['LSTM', 'GRU', 'RNN'] as const)('%s', (cell) => {
  test.prop([recurrentArb(cell), seedArb], RUNS)('gradients to X, W, R, B and the initial states', async (s, seed) => {
    const dirs = s.direction === 'bidirectional' ? 2 : 1;
    const gates = GATES[cell] * s.hidden;
    // Weights small enough that the states stay in the activations' responsive range.
    const weight = (dims: number[]) => ({ dims, values: uniformValues(size(dims), seed + dims.length, -0.8, 0.8) });
    const state = { dims: [dirs, s.batch, s.hidden] };
    const inputs = [
      { dims: [s.steps, s.batch, s.input] },
      weight([dirs, gates, s.input]),
      weight([dirs, gates, s.hidden]),
      s.bias ? weight([dirs, 2 * gates]) : null,
      null,
      s.initial ? state : null,
      ...(cell === 'LSTM' ? [s.initial ? state : null] : []),
    ];
    const omitY = s.omitY && !s.outputs.includes(0);
    const attributes = {
      hidden_size: s.hidden,
      direction: { string: s.direction },
      ...(cell === 'GRU' ? { linear_before_reset: s.linearBeforeReset ? 1 : 0 } : {}),
      ...(cell === 'RNN' && s.relu ? { activations: { strings: Array.from({ length: dirs }, () => 'Relu') } } : {}),
    };
    const check = await checkRule({
      op: cell,
      attributes,
      inputs,
      outputs: cell === 'LSTM' ? 3 : 2,
      lossOn: s.outputs,
      omit: omitY ? [0] : [],
      seed,
      h: cell === 'RNN' && s.relu ? 1e-4 : 1e-2,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst(cell, check);
  });
});
