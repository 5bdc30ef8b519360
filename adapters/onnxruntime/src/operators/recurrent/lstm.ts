import type { GradientContext } from '../../autodiff/OperatorRule.js';
import type { CellGradients, Direction } from './recurrentSupport.js';
import { activate, scanOverTime, slopeFromOutput, timesTransposed } from './recurrentSupport.js';

/**
 * One direction of an LSTM (ONNX gate order i, o, f, c; activations f, g, h):
 *     i, o, f = f(·), c̃ = g(·)    over  X·Wᵀ + H_{t−1}·Rᵀ + Wb + Rb
 *     C_t = f ⊙ C_{t−1} + i ⊙ c̃,   H_t = o ⊙ h(C_t)
 * The gates of every step come from one batched product; the cell states from a forward Scan of the linear
 * recurrence; then a reverse Scan carries (dH, dC) back through time.
 */
export function lstmDirection(c: GradientContext, d: Direction): CellGradients {
  const b = c.b;
  const [fAct, gAct, hAct] = d.activations as [string, string, string];
  let pre = b.op('Add', [timesTransposed(b, d.x, d.w), timesTransposed(b, d.hPrev, d.r)], {}, 'lstm_gates');
  if (d.wb) pre = b.op('Add', [pre, b.op('Add', [d.wb, d.rb!])]);
  const [gi, go, gf, gc] = b.split(pre, 2, 4, 'lstm_gate');
  const [i, o, f, g] = [activate(c, fAct, gi!), activate(c, fAct, go!), activate(c, fAct, gf!), activate(c, gAct, gc!)];

  // C_t for every step: C ← f_t ⊙ C + (i ⊙ c̃)_t, from C_0.
  const cells = scanOverTime(
    b,
    [d.c0!],
    [f, b.op('Mul', [i, g])],
    1,
    (sub, [state], [ft, igt]) => {
      const next = sub.op('Add', [sub.op('Mul', [ft!, state!]), igt!]);
      return { states: [next], outputs: [next] };
    },
    false,
  ).outputs[0]!;
  const cPrev = b.op('Concat', [b.unsqueeze(d.c0!, [0]), b.slice(cells, [0], [-1], [0])], { axis: 0 });
  const hc = activate(c, hAct, cells);

  // dGates = [dC ⊙ c̃·f′(i), dH ⊙ h(C)·f′(o), dC ⊙ C_{t−1}·f′(f), dC ⊙ i·g′(c̃)], and dC picks up dH ⊙ o·h′(C).
  const coefficients = b.op(
    'Concat',
    [
      b.op('Mul', [g, slopeFromOutput(c, fAct, i)]),
      b.op('Mul', [hc, slopeFromOutput(c, fAct, o)]),
      b.op('Mul', [cPrev, slopeFromOutput(c, fAct, f)]),
      b.op('Mul', [i, slopeFromOutput(c, gAct, g)]),
    ],
    { axis: 2 },
    'lstm_coefficients',
  );
  const throughH = b.op('Mul', [o, slopeFromOutput(c, hAct, hc)]);
  const back = scanOverTime(b, [d.dLastH, d.dLastC!], [d.dY, coefficients, throughH, f], 1, (sub, [dhNext, dcNext], [dyt, kt, tht, ft]) => {
    const dh = sub.op('Add', [dyt!, dhNext!]);
    const dc = sub.op('Add', [dcNext!, sub.op('Mul', [dh, tht!])]);
    const dGates = sub.op('Mul', [sub.op('Concat', [dc, dh, dc, dc], { axis: 1 }), kt!], {}, 'lstm_dgates');
    return { states: [sub.op('MatMul', [dGates, d.r]), sub.op('Mul', [dc, ft!])], outputs: [dGates] };
  });
  const dGates = back.outputs[0]!;
  return { dGatesX: dGates, dGatesH: dGates, dH0: back.states[0]!, dC0: back.states[1]! };
}
