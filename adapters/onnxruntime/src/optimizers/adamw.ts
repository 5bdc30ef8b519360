import type { AdamOptions } from './adam.js';
import { adamLike } from './adam.js';
import type { Optimizer } from './Optimizer.js';

/**
 * AdamW (`torch.optim.AdamW`): Adam with decoupled weight decay, `p ← p·(1 − lr·wd)` before the Adam step.
 *
 * @example
 * ```ts
 * import { adamw } from '@gradpipe/onnxruntime';
 * const opt = adamw({ lr: 1e-3, weightDecay: 0.01 });
 * ```
 */
export function adamw(options: AdamOptions = {}): Optimizer {
  return adamLike('adamw', options, true);
}
