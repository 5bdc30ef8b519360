import type { GradientContext, OperatorRule } from '../autodiff/OperatorRule.js';
import { likeInput } from './support/shapeRules.js';
import { unbroadcast } from './support/sumToShape.js';

/**
 * An activation whose gradient is `dy ⊙ slope`, the slope written from the input `x` and the output `y`.
 * Kinks follow PyTorch's conventions (the gradient of ReLU at 0 is 0, HardSigmoid's ends are flat).
 */
function activation(slope: (c: GradientContext, x: string, y: string) => string): OperatorRule {
  return {
    differentiable: [0],
    shape: likeInput(0),
    grad: (c) => [c.b.op('Mul', [c.dy[0]!, slope(c, c.x[0]!, c.y[0]!)], {}, `${c.node.opType.toLowerCase()}_grad`)],
  };
}

/** An activation whose gradient is `dy` where the condition holds and 0 elsewhere (0 even where dy is ±∞ or NaN, as in PyTorch). */
function passWhere(condition: (c: GradientContext, x: string) => string | undefined): OperatorRule {
  return {
    differentiable: [0],
    shape: likeInput(0),
    grad(c) {
      const cond = condition(c, c.x[0]!);
      return [cond ? c.b.op('Where', [cond, c.dy[0]!, c.b.scalar(0)], {}, `${c.node.opType.toLowerCase()}_grad`) : c.dy[0]];
    },
  };
}

/** `then` where `cond`, else `otherwise`. */
function select(c: GradientContext, cond: string, then: string, otherwise: string): string {
  return c.b.op('Where', [cond, then, otherwise]);
}

const positive = (c: GradientContext, x: string) => c.b.op('Greater', [x, c.b.scalar(0)]);

/** Activations and clipping of values. */
export const activationRules = {
  Relu: passWhere(positive),
  LeakyRelu: activation((c, x) => select(c, positive(c, x), c.b.scalar(1), c.b.scalar(c.attr.float('alpha', 0.01)))),
  PRelu: {
    differentiable: [0, 1],
    shape: likeInput(0),
    grad(c) {
      const [x, slope] = [c.x[0]!, c.x[1]!];
      const dy = c.dy[0]!;
      const pos = positive(c, x);
      const dx = c.needs(0) ? unbroadcast(c, select(c, pos, dy, c.b.op('Mul', [dy, slope])), 0) : undefined;
      const dslope = c.needs(1) ? unbroadcast(c, select(c, pos, c.b.scalar(0), c.b.op('Mul', [dy, x])), 1) : undefined;
      return [dx, dslope];
    },
  },
  ThresholdedRelu: passWhere((c, x) => c.b.op('Greater', [x, c.b.scalar(c.attr.float('alpha', 1))])),
  Sigmoid: activation((c, _x, y) => c.b.op('Mul', [y, c.b.op('Sub', [c.b.scalar(1), y])])),
  Tanh: activation((c, _x, y) => c.b.op('Sub', [c.b.scalar(1), c.b.op('Mul', [y, y])])),
  Softplus: activation((c, x) => c.b.op('Sigmoid', [x])),
  // d/dx x/(1+|x|) = 1/(1+|x|)²
  Softsign: activation((c, x) => {
    const d = c.b.op('Add', [c.b.scalar(1), c.b.op('Abs', [x])]);
    return c.b.op('Reciprocal', [c.b.op('Mul', [d, d])]);
  }),
  // x > 0: 1; else α·eˣ = y + α
  Elu: activation((c, x, y) => select(c, positive(c, x), c.b.scalar(1), c.b.op('Add', [y, c.b.scalar(c.attr.float('alpha', 1))]))),
  // x > 0: γ; else γ·α·eˣ = y + γ·α
  Selu: activation((c, x, y) => {
    // biome-ignore lint/correctness/noPrecisionLoss: ONNX's defaults, the float32 values written out exactly
    const alpha = c.attr.float('alpha', 1.67326319217681884765625);
    // biome-ignore lint/correctness/noPrecisionLoss: as above
    const gamma = c.attr.float('gamma', 1.05070102214813232421875);
    return select(c, positive(c, x), c.b.scalar(gamma), c.b.op('Add', [y, c.b.scalar(Math.fround(gamma * alpha))]));
  }),
  // x > 0: 1; else exp(x/α) = y/α + 1
  Celu: activation((c, x, y) => {
    const alpha = c.attr.float('alpha', 1);
    return select(c, positive(c, x), c.b.scalar(1), c.b.op('Add', [c.b.op('Div', [y, c.b.scalar(alpha)]), c.b.scalar(1)]));
  }),
  // α where 0 < αx + β < 1, else 0
  HardSigmoid: activation((c, x) => {
    const alpha = c.attr.float('alpha', 0.2);
    const z = c.b.op('Add', [c.b.op('Mul', [x, c.b.scalar(alpha)]), c.b.scalar(c.attr.float('beta', 0.5))]);
    const inside = c.b.op('And', [c.b.op('Greater', [z, c.b.scalar(0)]), c.b.op('Less', [z, c.b.scalar(1)])]);
    return c.b.op('Mul', [c.b.toFloat(inside), c.b.scalar(alpha)]);
  }),
  // PyTorch's hardswish_backward: 0 below −3, x/3 + 1/2 up to 3, 1 above.
  HardSwish: activation((c, x) => {
    const middle = c.b.op('Add', [c.b.op('Div', [x, c.b.scalar(3)]), c.b.scalar(0.5)]);
    const upper = select(c, c.b.op('LessOrEqual', [x, c.b.scalar(3)]), middle, c.b.scalar(1));
    return select(c, c.b.op('Less', [x, c.b.scalar(-3)]), c.b.scalar(0), upper);
  }),
  // Φ(x) + x·φ(x), or the derivative of the tanh approximation
  Gelu: activation((c, x) => {
    const b = c.b;
    if (c.attr.string('approximate', 'none') === 'tanh') {
      // y = x/2 · (1 + tanh(u)), u = √(2/π)(x + 0.044715x³)
      const k = Math.sqrt(2 / Math.PI);
      const x2 = b.op('Mul', [x, x]);
      const u = b.op('Mul', [b.op('Add', [x, b.op('Mul', [b.op('Mul', [x2, x]), b.scalar(0.044715)])]), b.scalar(k)]);
      const t = b.op('Tanh', [u]);
      const du = b.op('Mul', [b.op('Add', [b.scalar(1), b.op('Mul', [x2, b.scalar(3 * 0.044715)])]), b.scalar(k)]);
      const left = b.op('Mul', [b.op('Add', [b.scalar(1), t]), b.scalar(0.5)]);
      const right = b.op('Mul', [b.op('Mul', [b.op('Mul', [x, b.scalar(0.5)]), b.op('Sub', [b.scalar(1), b.op('Mul', [t, t])])]), du]);
      return b.op('Add', [left, right]);
    }
    const cdf = b.op('Mul', [b.op('Add', [b.scalar(1), b.op('Erf', [b.op('Mul', [x, b.scalar(Math.SQRT1_2)])])]), b.scalar(0.5)]);
    const pdf = b.op('Mul', [b.op('Exp', [b.op('Mul', [b.op('Mul', [x, x]), b.scalar(-0.5)])]), b.scalar(1 / Math.sqrt(2 * Math.PI))]);
    return b.op('Add', [cdf, b.op('Mul', [x, pdf])]);
  }),
  // tanh(sp) + x·σ(x)·(1 − tanh²(sp)), sp = softplus(x)
  Mish: activation((c, x) => {
    const t = c.b.op('Tanh', [c.b.op('Softplus', [x])]);
    const sech2 = c.b.op('Sub', [c.b.scalar(1), c.b.op('Mul', [t, t])]);
    return c.b.op('Add', [t, c.b.op('Mul', [c.b.op('Mul', [x, c.b.op('Sigmoid', [x])]), sech2])]);
  }),
  // PyTorch's clamp: the gradient passes where min ≤ x ≤ max (bounds included).
  Clip: passWhere((c, x) => {
    const conditions: string[] = [];
    if (c.x[1]) conditions.push(c.b.op('GreaterOrEqual', [x, c.x[1]]));
    if (c.x[2]) conditions.push(c.b.op('LessOrEqual', [x, c.x[2]]));
    return conditions.length < 2 ? conditions[0] : c.b.op('And', conditions);
  }),
} satisfies Record<string, OperatorRule>;
