import type { GradientContext, OperatorRule } from '../autodiff/OperatorRule.js';
import { normalizeAxis } from '../shapes/TensorInfo.js';
import { likeInput } from './support/shapeRules.js';

/** The one axis Softmax/LogSoftmax normalizes over (from opset 13; older forms are rewritten on upgrade). */
function softmaxAxis(c: GradientContext): number {
  return normalizeAxis(c.attr.int('axis', -1), c.rank(c.x[0]!));
}

/** Softmax and LogSoftmax on any axis. */
export const softmaxRules = {
  Softmax: {
    differentiable: [0],
    shape: likeInput(0),
    grad(c) {
      // dx = y ⊙ (dy − Σ(dy ⊙ y)) over the axis
      const [dy, y] = [c.dy[0]!, c.y[0]!];
      const dot = c.b.reduceSum(c.b.op('Mul', [dy, y]), [softmaxAxis(c)], true);
      return [c.b.op('Mul', [y, c.b.op('Sub', [dy, dot])], {}, 'softmax_grad')];
    },
  },
  LogSoftmax: {
    differentiable: [0],
    shape: likeInput(0),
    grad(c) {
      // dx = dy − exp(y) ⊙ Σ dy over the axis
      const dy = c.dy[0]!;
      const total = c.b.reduceSum(dy, [softmaxAxis(c)], true);
      return [c.b.op('Sub', [dy, c.b.op('Mul', [c.b.op('Exp', [c.y[0]!]), total])], {}, 'logsoftmax_grad')];
    },
  },
} satisfies Record<string, OperatorRule>;
