import type { GradientContext, OperatorRule } from '../../autodiff/OperatorRule.js';
import { gruDirection } from './gru.js';
import { lstmDirection } from './lstm.js';
import type { CellGradients, CellType, Direction } from './recurrentSupport.js';
import { assemble, readDirections, recurrentShape } from './recurrentSupport.js';
import { rnnDirection } from './rnn.js';

function recurrent(cell: CellType, direction: (c: GradientContext, d: Direction) => CellGradients): OperatorRule {
  return {
    // X, W, R, B, and the initial states (sequence_lens, input 4, is an integer input)
    differentiable: cell === 'LSTM' ? [0, 1, 2, 3, 5, 6] : [0, 1, 2, 3, 5],
    shape: recurrentShape,
    grad(c) {
      const dirs = readDirections(c, cell);
      return assemble(
        c,
        dirs,
        dirs.map((d) => direction(c, d)),
      );
    },
  };
}

/** LSTM, GRU and RNN: forward, reverse and bidirectional, any output used, gradients to every float input. */
export const recurrentRules = {
  LSTM: recurrent('LSTM', lstmDirection),
  GRU: recurrent('GRU', gruDirection),
  RNN: recurrent('RNN', rnnDirection),
} satisfies Record<string, OperatorRule>;
