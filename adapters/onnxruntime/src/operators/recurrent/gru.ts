import type { GradientContext } from '../../autodiff/OperatorRule.js';
import type { CellGradients, Direction } from './recurrentSupport.js';
import { activate, outerOverSteps, scanOverTime, slopeFromOutput, timesTransposed } from './recurrentSupport.js';

/**
 * One direction of a GRU (ONNX gate order z, r, h; activations f, g):
 *     z, r = f(X·W_{z,r}ᵀ + H_{t−1}·R_{z,r}ᵀ + b),
 *     n = g(X·W_hᵀ + Wb_h + r ⊙ (H_{t−1}·R_hᵀ + Rb_h))      (linear_before_reset = 1, PyTorch's form)
 *     n = g(X·W_hᵀ + Wb_h + (r ⊙ H_{t−1})·R_hᵀ + Rb_h)      (linear_before_reset = 0)
 *     H_t = (1 − z) ⊙ n + z ⊙ H_{t−1}
 * Every gate comes from batched products; a reverse Scan carries dH back through time.
 */
export function gruDirection(c: GradientContext, d: Direction): CellGradients {
  const b = c.b;
  const [fAct, gAct] = d.activations as [string, string];
  const linearBeforeReset = c.attr.int('linear_before_reset', 0) === 1;
  const hidden = c.attr.int('hidden_size', 0);
  let fromX = timesTransposed(b, d.x, d.w);
  if (d.wb) fromX = b.op('Add', [fromX, d.wb]);
  const [xz, xr, xh] = b.split(fromX, 2, 3, 'gru_x');
  const rZr = b.slice(d.r, [0], [2 * hidden], [0]);
  const rH = b.slice(d.r, [2 * hidden], [3 * hidden], [0]);
  const bias = (from: number, to: number) => (d.rb ? b.slice(d.rb, [from], [to], [0]) : undefined);
  const plus = (t: string, v: string | undefined) => (v ? b.op('Add', [t, v]) : t);
  const [hz, hr] = b.split(plus(timesTransposed(b, d.hPrev, rZr), bias(0, 2 * hidden)), 2, 2, 'gru_h');
  const z = activate(c, fAct, b.op('Add', [xz!, hz!]));
  const r = activate(c, fAct, b.op('Add', [xr!, hr!]));
  const reset = b.op('Mul', [r, d.hPrev]);
  const hh = plus(linearBeforeReset ? timesTransposed(b, d.hPrev, rH) : timesTransposed(b, reset, rH), bias(2 * hidden, 3 * hidden));
  const n = activate(c, gAct, b.op('Add', [xh!, linearBeforeReset ? b.op('Mul', [r, hh]) : hh]));

  // dz = dH ⊙ (H_{t−1} − n)·f′(z);  dn = dH ⊙ (1 − z)·g′(n);  dH_{t−1} gets dH ⊙ z.
  const kz = b.op('Mul', [b.op('Sub', [d.hPrev, n]), slopeFromOutput(c, fAct, z)]);
  const kn = b.op('Mul', [b.op('Sub', [b.scalar(1), z]), slopeFromOutput(c, gAct, n)]);
  const fr = slopeFromOutput(c, fAct, r);
  if (linearBeforeReset) {
    // dr = dn ⊙ hh·f′(r): every gate gradient is dH times a coefficient, so the Scan only carries dH.
    const kr = b.op('Mul', [b.op('Mul', [kn, hh]), fr]);
    const kx = b.op('Concat', [kz, kr, kn], { axis: 2 });
    const kh = b.op('Concat', [kz, kr, b.op('Mul', [kn, r])], { axis: 2 });
    const back = scanOverTime(b, [d.dLastH], [d.dY, kh, z], 1, (sub, [dhNext], [dyt, kht, zt]) => {
      const dh = sub.op('Add', [dyt!, dhNext!]);
      const dGatesH = sub.op('Mul', [sub.op('Concat', [dh, dh, dh], { axis: 1 }), kht!]);
      return { states: [sub.op('Add', [sub.op('Mul', [dh, zt!]), sub.op('MatMul', [dGatesH, d.r])])], outputs: [dh] };
    });
    const dh3 = b.op('Concat', [back.outputs[0]!, back.outputs[0]!, back.outputs[0]!], { axis: 2 });
    return { dGatesX: b.op('Mul', [dh3, kx]), dGatesH: b.op('Mul', [dh3, kh]), dH0: back.states[0]! };
  }
  // linear_before_reset = 0: the reset gate sits inside the product, d(r ⊙ H_{t−1}) = dn·R_h per step.
  const back = scanOverTime(b, [d.dLastH], [d.dY, kz, kn, fr, d.hPrev, r, z], 1, (sub, [dhNext], [dyt, kzt, knt, frt, hpt, rt, zt]) => {
    const dh = sub.op('Add', [dyt!, dhNext!]);
    const dz = sub.op('Mul', [dh, kzt!]);
    const dn = sub.op('Mul', [dh, knt!]);
    const dReset = sub.op('MatMul', [dn, rH]);
    const dr = sub.op('Mul', [sub.op('Mul', [dReset, hpt!]), frt!]);
    const dZr = sub.op('Concat', [dz, dr], { axis: 1 });
    const next = sub.op('Add', [sub.op('Add', [sub.op('Mul', [dh, zt!]), sub.op('MatMul', [dZr, rZr])]), sub.op('Mul', [dReset, rt!])]);
    return { states: [next], outputs: [sub.op('Concat', [dz, dr, dn], { axis: 1 })] };
  });
  const dGates = back.outputs[0]!;
  const [dz, dr, dn] = b.split(dGates, 2, 3, 'gru_dgates');
  const dR = b.op('Concat', [outerOverSteps(b, b.op('Concat', [dz!, dr!], { axis: 2 }), d.hPrev), outerOverSteps(b, dn!, reset)], {
    axis: 0,
  });
  return { dGatesX: dGates, dGatesH: dGates, dR, dH0: back.states[0]! };
}
