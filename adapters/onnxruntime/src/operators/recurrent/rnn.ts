import type { GradientContext } from '../../autodiff/OperatorRule.js';
import type { CellGradients, Direction } from './recurrentSupport.js';
import { scanOverTime, slopeFromOutput } from './recurrentSupport.js';

/**
 * One direction of a simple RNN: H_t = f(X·Wᵀ + H_{t−1}·Rᵀ + Wb + Rb). The slope f′ comes from the outputs
 * H_t themselves; a reverse Scan carries dH back through time.
 */
export function rnnDirection(c: GradientContext, d: Direction): CellGradients {
  const b = c.b;
  const slope = slopeFromOutput(c, d.activations[0]!, d.h);
  const back = scanOverTime(b, [d.dLastH], [d.dY, slope], 1, (sub, [dhNext], [dyt, st]) => {
    const dPre = sub.op('Mul', [sub.op('Add', [dyt!, dhNext!]), st!], {}, 'rnn_dpre');
    return { states: [sub.op('MatMul', [dPre, d.r])], outputs: [dPre] };
  });
  const dPre = back.outputs[0]!;
  return { dGatesX: dPre, dGatesH: dPre, dH0: back.states[0]! };
}
