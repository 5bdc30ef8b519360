import {
  GradpipeError,
  describeValue,
  rejectUnknownKeys,
  requireInRange,
  requireNonNegativeFinite,
  requireOptionsObject,
  requirePositiveFinite,
} from '@gradpipe/core';
import type { Optimizer } from './Optimizer.js';
import { checkUpdate, decodeBuffers, encodeBuffers, optimizerJson } from './Optimizer.js';

/** Options of {@link sgd}, as in `torch.optim.SGD`. */
export interface SgdOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** Dampening of the momentum. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with `torch.optim.SGD`'s update: `g ← g + wd·p`; with momentum the buffer starts as
 * `g` on the first step, then `b ← μ·b + (1 − dampening)·g`; Nesterov uses `g + μ·b`; `p ← p − lr·g`.
 *
 * @example
 * ```ts
 * import { sgd } from '@gradpipe/onnxruntime';
 * const opt = sgd({ lr: 0.1, momentum: 0.9 });
 * const params = { w: new Float32Array([1, 2]) };
 * opt.update(params, { w: new Float32Array([0.5, -0.5]) }); // params.w → [0.95, 2.05]
 * ```
 */
export function sgd(options: SgdOptions): Optimizer {
  const fn = 'sgd';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay']);
  const lr = requirePositiveFinite(fn, 'lr', options.lr);
  const momentum = requireNonNegativeFinite(fn, 'momentum', options.momentum ?? 0);
  const dampening = requireInRange(fn, 'dampening', options.dampening ?? 0, 0, 1);
  const weightDecay = requireNonNegativeFinite(fn, 'weightDecay', options.weightDecay ?? 0);
  const nesterov = options.nesterov ?? false;
  if (typeof nesterov !== 'boolean') throw new GradpipeError(fn, `nesterov must be a boolean, got ${describeValue(nesterov)}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new GradpipeError(fn, 'nesterov needs momentum > 0 and dampening 0 (as in PyTorch)');
  const config = { lr, momentum, dampening, nesterov, weightDecay };
  let buffers = new Map<string, Float32Array>();

  const optimizer: Optimizer = {
    kind: fn,
    config,
    update(params, grads) {
      checkUpdate('sgd.update', params, grads);
      for (const [name, g] of Object.entries(grads)) {
        const p = params[name]!;
        let buf = buffers.get(name);
        // PyTorch starts the momentum buffer as the first step's gradient.
        const first = momentum !== 0 && !buf;
        if (first) buffers.set(name, (buf = new Float32Array(p.length)));
        for (let i = 0; i < p.length; i++) {
          let d = Math.fround(g[i]! + weightDecay * p[i]!);
          if (buf) {
            buf[i] = first ? d : momentum * buf[i]! + (1 - dampening) * d;
            d = nesterov ? d + momentum * buf[i]! : buf[i]!;
          }
          p[i] = p[i]! - lr * d;
        }
      }
    },
    toJSON: () => optimizerJson(fn, { ...config }, { momentumBuffers: encodeBuffers(buffers) }),
    loadState(state) {
      buffers = decodeBuffers('sgd.loadState', state.momentumBuffers);
    },
  };
  return optimizer;
}
