import {
  GradpipeError,
  describeValue,
  rejectUnknownKeys,
  requireInRange,
  requireInteger,
  requireNonNegativeFinite,
  requireOptionsObject,
  requirePositiveFinite,
} from '@gradpipe/core';
import type { Optimizer } from './Optimizer.js';
import { checkUpdate, decodeBuffers, encodeBuffers, optimizerJson } from './Optimizer.js';

/** Options of {@link adam} and {@link adamw}, as in `torch.optim.Adam` / `AdamW`. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moments. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay `p ← p·(1 − lr·wd)` (default 1e-2). */
  weightDecay?: number;
}

/**
 * Adam with `torch.optim.Adam`'s update: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
 * `p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)`; `weightDecay` adds `wd·p` to the gradient first.
 *
 * @example
 * ```ts
 * import { adam } from '@gradpipe/onnxruntime';
 * const opt = adam({ lr: 0.01 });
 * const params = { w: new Float32Array([1]) };
 * opt.update(params, { w: new Float32Array([3]) }); // the first step moves by ≈ lr: w → 0.99
 * ```
 */
export function adam(options: AdamOptions = {}): Optimizer {
  return adamLike('adam', options, false);
}

/** Adam and AdamW share everything but where the weight decay goes. */
export function adamLike(fn: 'adam' | 'adamw', options: AdamOptions, decoupled: boolean): Optimizer {
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['lr', 'betas', 'eps', 'weightDecay']);
  const lr = requirePositiveFinite(fn, 'lr', options.lr ?? 1e-3);
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) throw new GradpipeError(fn, `betas must be [beta1, beta2], got ${describeValue(betas)}`);
  const beta1 = requireInRange(fn, 'betas[0]', betas[0], 0, 1, false, true);
  const beta2 = requireInRange(fn, 'betas[1]', betas[1], 0, 1, false, true);
  const eps = requirePositiveFinite(fn, 'eps', options.eps ?? 1e-8);
  const weightDecay = requireNonNegativeFinite(fn, 'weightDecay', options.weightDecay ?? (decoupled ? 1e-2 : 0));
  const config = { lr, betas: [beta1, beta2], eps, weightDecay };
  let step = 0;
  let m = new Map<string, Float32Array>();
  let v = new Map<string, Float32Array>();

  const optimizer: Optimizer = {
    kind: fn,
    config,
    update(params, grads) {
      checkUpdate(`${fn}.update`, params, grads);
      step++;
      const bc1 = 1 - beta1 ** step;
      const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
      const stepSize = lr / bc1;
      for (const [name, g] of Object.entries(grads)) {
        const p = params[name]!;
        const mb = m.get(name) ?? m.set(name, new Float32Array(p.length)).get(name)!;
        const vb = v.get(name) ?? v.set(name, new Float32Array(p.length)).get(name)!;
        for (let i = 0; i < p.length; i++) {
          let gi = g[i]!;
          if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
          else if (weightDecay !== 0) gi = Math.fround(gi + weightDecay * p[i]!);
          mb[i] = beta1 * mb[i]! + (1 - beta1) * gi;
          vb[i] = beta2 * vb[i]! + (1 - beta2) * gi * gi;
          p[i] = p[i]! - (stepSize * mb[i]!) / (Math.sqrt(vb[i]!) / bc2Sqrt + eps);
        }
      }
    },
    toJSON: () => optimizerJson(fn, { ...config, betas: [beta1, beta2] }, { step, m: encodeBuffers(m), v: encodeBuffers(v) }),
    loadState(state) {
      step = requireInteger(`${fn}.loadState`, 'step', state.step, 0);
      m = decodeBuffers(`${fn}.loadState`, state.m);
      v = decodeBuffers(`${fn}.loadState`, state.v);
    },
  };
  return optimizer;
}
