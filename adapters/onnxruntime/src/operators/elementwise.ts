import type { GradientContext, OperatorRule } from '../autodiff/OperatorRule.js';
import { broadcasting, likeInput } from './support/shapeRules.js';
import { unbroadcast } from './support/sumToShape.js';

/** The scalar value of a constant input, when the model fixes it (e.g. Pow's exponent 2). */
function constantScalar(c: GradientContext, i: number): number | undefined {
  const value = c.info(c.x[i] ?? '').value;
  return value && value.length === 1 && typeof value[0] === 'number' ? value[0] : undefined;
}

/** A unary operator whose gradient is `dy ⊙ slope(x, y)`. */
function unary(slope: (c: GradientContext, x: string, y: string) => string): OperatorRule {
  return {
    differentiable: [0],
    shape: likeInput(0),
    grad: (c) => [c.b.op('Mul', [c.dy[0]!, slope(c, c.x[0]!, c.y[0]!)], {}, `${c.node.opType.toLowerCase()}_grad`)],
  };
}

/** Variadic Max/Min: the gradient goes to the inputs equal to the result, split evenly on ties (as torch.maximum). */
const selectByValue: OperatorRule = {
  differentiable: [0, 1, 2, 3, 4, 5, 6, 7],
  shape: broadcasting(),
  grad(c) {
    const given = c.x.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
    if (given.length === 1) return [c.dy[0]];
    const masks = given.map((i) => c.b.toFloat(c.b.op('Equal', [c.x[i]!, c.y[0]!])));
    const share = c.b.op('Div', [c.dy[0]!, c.b.sum(masks)]);
    const grads: (string | undefined)[] = [];
    given.forEach((i, k) => {
      if (c.needs(i)) grads[i] = unbroadcast(c, c.b.op('Mul', [share, masks[k]!]), i);
    });
    return grads;
  },
};

/** Element-wise arithmetic and math, with numpy broadcasting: gradients are summed back to each input's shape. */
export const elementwiseRules = {
  Add: {
    differentiable: [0, 1],
    shape: broadcasting('add'),
    grad: (c) => [c.needs(0) ? unbroadcast(c, c.dy[0]!, 0) : undefined, c.needs(1) ? unbroadcast(c, c.dy[0]!, 1) : undefined],
  },
  Sub: {
    differentiable: [0, 1],
    shape: broadcasting('sub'),
    grad: (c) => [
      c.needs(0) ? unbroadcast(c, c.dy[0]!, 0) : undefined,
      c.needs(1) ? unbroadcast(c, c.b.op('Neg', [c.dy[0]!]), 1) : undefined,
    ],
  },
  Mul: {
    differentiable: [0, 1],
    shape: broadcasting('mul'),
    grad: (c) => [
      c.needs(0) ? unbroadcast(c, c.b.op('Mul', [c.dy[0]!, c.x[1]!]), 0) : undefined,
      c.needs(1) ? unbroadcast(c, c.b.op('Mul', [c.dy[0]!, c.x[0]!]), 1) : undefined,
    ],
  },
  Div: {
    differentiable: [0, 1],
    shape: broadcasting('div'),
    grad(c) {
      const da = c.b.op('Div', [c.dy[0]!, c.x[1]!]);
      // d(a/b)/db = −(a/b)/b = −y/b
      const db = c.needs(1) ? c.b.op('Neg', [c.b.op('Mul', [da, c.y[0]!])]) : undefined;
      return [c.needs(0) ? unbroadcast(c, da, 0) : undefined, db && unbroadcast(c, db, 1)];
    },
  },
  Pow: {
    differentiable: [0, 1],
    shape: broadcasting(),
    grad(c) {
      const [a, e] = [c.x[0]!, c.x[1]!];
      const dy = c.dy[0]!;
      let da: string | undefined;
      if (c.needs(0)) {
        const k = constantScalar(c, 1);
        // d(aᵏ)/da = k·aᵏ⁻¹, written without Pow for the exponents people use (x², x³, √x).
        const slope =
          k === 0
            ? c.b.scalar(0)
            : k === 1
              ? undefined
              : k === 2
                ? c.b.op('Mul', [a, c.b.scalar(2)])
                : k === 3
                  ? c.b.op('Mul', [c.b.op('Mul', [a, a]), c.b.scalar(3)])
                  : c.b.op('Mul', [e, c.b.op('Pow', [a, c.b.op('Sub', [e, c.b.scalar(1)])])]);
        da = unbroadcast(c, slope ? c.b.op('Mul', [dy, slope]) : dy, 0);
      }
      let de: string | undefined;
      if (c.needs(1)) {
        // d(aᵉ)/de = aᵉ·ln a; 0 where a = 0 and e ≥ 0 (as PyTorch), where ln a is −∞.
        const zero = c.b.scalar(0);
        const masked = c.b.op('And', [c.b.op('Equal', [a, zero]), c.b.op('GreaterOrEqual', [e, zero])]);
        const slope = c.b.op('Where', [masked, zero, c.b.op('Mul', [c.y[0]!, c.b.op('Log', [a])])]);
        de = unbroadcast(c, c.b.op('Mul', [dy, slope]), 1);
      }
      return [da, de];
    },
  },
  Sum: {
    differentiable: [0, 1, 2, 3, 4, 5, 6, 7],
    shape: broadcasting(),
    grad: (c) => c.x.map((_x, i) => (c.needs(i) ? unbroadcast(c, c.dy[0]!, i) : undefined)),
  },
  Mean: {
    differentiable: [0, 1, 2, 3, 4, 5, 6, 7],
    shape: broadcasting(),
    grad(c) {
      const share = c.b.op('Div', [c.dy[0]!, c.b.scalar(c.x.filter(Boolean).length)]);
      return c.x.map((_x, i) => (c.needs(i) ? unbroadcast(c, share, i) : undefined));
    },
  },
  Max: selectByValue,
  Min: selectByValue,
  Neg: { differentiable: [0], shape: likeInput(0), grad: (c) => [c.b.op('Neg', [c.dy[0]!])] },
  // PyTorch's convention: the gradient of |x| at 0 is 0 (Sign(0) = 0).
  Abs: unary((c, x) => c.b.op('Sign', [x])),
  Reciprocal: unary((c, _x, y) => c.b.op('Neg', [c.b.op('Mul', [y, y])])),
  // PyTorch: grad / (2·√x)
  Sqrt: {
    differentiable: [0],
    shape: likeInput(0),
    grad: (c) => [c.b.op('Div', [c.dy[0]!, c.b.op('Mul', [c.y[0]!, c.b.scalar(2)])], {}, 'sqrt_grad')],
  },
  Exp: unary((_c, _x, y) => y),
  Log: { differentiable: [0], shape: likeInput(0), grad: (c) => [c.b.op('Div', [c.dy[0]!, c.x[0]!], {}, 'log_grad')] },
  // d erf(x)/dx = 2/√π · exp(−x²)
  Erf: unary((c, x) => c.b.op('Mul', [c.b.op('Exp', [c.b.op('Neg', [c.b.op('Mul', [x, x])])]), c.b.scalar(2 / Math.sqrt(Math.PI))])),
  Sin: unary((c, x) => c.b.op('Cos', [x])),
  Cos: unary((c, x) => c.b.op('Neg', [c.b.op('Sin', [x])])),
} satisfies Record<string, OperatorRule>;
