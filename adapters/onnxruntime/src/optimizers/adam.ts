import { describeValue, GradpipeError } from '@gradpipe/core';
import {
  rejectUnknownKeys,
  requireInRange,
  requireInteger,
  requireNonNegativeFinite,
  requireOptionsObject,
  requirePositiveFinite,
} from '@gradpipe/core/internal';
import { orDefault } from '../support/options.js';
import { KernelMemory } from './kernels/KernelMemory.js';
import type { Optimizer } from './Optimizer.js';
import { checkBuffers, checkUpdate, decodeBuffers, encodeBuffers, optimizerJson, requireLearningRate } from './Optimizer.js';
import type { ParamSelector } from './paramGroups.js';
import { ParamGroups } from './paramGroups.js';

/** Options of {@link adam} and {@link adamw}, as in `torch.optim.Adam` / `AdamW`. */
export interface AdamOptions {
  /** Learning rate (0 allowed: schedules may start there). Default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moments. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay `p ← p·(1 − lr·wd)` (default 1e-2). */
  weightDecay?: number;
  /** Other options for some parameters, like torch's param groups (first match wins), e.g. no decay on biases. */
  groups?: readonly AdamGroup[];
}

/** A param group of {@link adam} / {@link adamw}: the parameters, and the options that differ for them. */
export interface AdamGroup extends Omit<AdamOptions, 'groups'> {
  /** Which parameters. */
  params: ParamSelector;
}

interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

function settings(fn: string, o: Record<string, unknown>, defaults: AdamSettings): AdamSettings {
  const lr = requireLearningRate(fn, 'lr', orDefault(o.lr, defaults.lr));
  const betas = orDefault(o.betas, [defaults.beta1, defaults.beta2]);
  if (!Array.isArray(betas) || betas.length !== 2) throw new GradpipeError(fn, `betas must be [beta1, beta2], got ${describeValue(betas)}`);
  return {
    lr,
    beta1: requireInRange(fn, 'betas[0]', betas[0], 0, 1, false, true),
    beta2: requireInRange(fn, 'betas[1]', betas[1], 0, 1, false, true),
    eps: requirePositiveFinite(fn, 'eps', orDefault(o.eps, defaults.eps)),
    weightDecay: requireNonNegativeFinite(fn, 'weightDecay', orDefault(o.weightDecay, defaults.weightDecay)),
  };
}

/**
 * Adam with `torch.optim.Adam`'s update: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
 * `p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)`; `weightDecay` adds `wd·p` to the gradient first. Computed
 * in float32 operation by operation, in PyTorch's order, by a WebAssembly SIMD kernel.
 * `optimizer.lr` can be read and changed between steps; param groups keep their ratio to it.
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
  rejectUnknownKeys(fn, options, ['lr', 'betas', 'eps', 'weightDecay', 'groups']);
  const base = settings(fn, options as Record<string, unknown>, {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: decoupled ? 1e-2 : 0,
  });
  const groups = new ParamGroups(fn, options.groups, ['lr', 'betas', 'eps', 'weightDecay'], (o, i) => {
    if (o.lr !== undefined && base.lr === 0)
      throw new GradpipeError(fn, `groups[${i}].lr needs a base lr > 0 (a group keeps its ratio to it)`);
    return settings(`${fn} (groups[${i}])`, o, base);
  });
  const baseConfig = { lr: base.lr, betas: [base.beta1, base.beta2], eps: base.eps, weightDecay: base.weightDecay };
  let lr = base.lr;
  let step = 0;
  // The moments live in WebAssembly memory, where the SIMD kernel updates them ("m/<name>", "v/<name>").
  const memory = new KernelMemory();
  const moments = (prefix: 'm/' | 'v/') =>
    new Map(
      memory
        .names()
        .filter((n) => n.startsWith(prefix))
        .map((n) => [n.slice(2), memory.buffer(n)!]),
    );

  const optimizer: Optimizer = {
    kind: fn,
    get config() {
      return { ...baseConfig, groups: groups.toJSON() };
    },
    get lr() {
      return lr;
    },
    set lr(value: number) {
      lr = requireLearningRate(`${fn}.lr`, 'lr', value);
    },
    bind(params) {
      groups.resolve(Object.keys(params));
      checkBuffers(`${fn}.bind`, moments('m/'), params);
      checkBuffers(`${fn}.bind`, moments('v/'), params);
    },
    update(params, grads) {
      checkUpdate(`${fn}.update`, params, grads);
      optimizer.bind!(params);
      step++;
      for (const [name, g] of Object.entries(grads)) {
        const s = groups.of(name) ?? base;
        // A group's own lr keeps its ratio to the optimizer's lr as that changes (a schedule).
        const stepLr = s.lr === base.lr ? lr : (s.lr * lr) / base.lr;
        const p = params[name]!;
        memory.ensure(`m/${name}`, p.length);
        memory.ensure(`v/${name}`, p.length);
        memory.adam(p, g, `m/${name}`, `v/${name}`, {
          b1: s.beta1,
          b2: s.beta2,
          negStep: -stepLr / (1 - s.beta1 ** step),
          bc2: Math.sqrt(1 - s.beta2 ** step),
          eps: s.eps,
          l2: decoupled ? 0 : s.weightDecay,
          keep: decoupled ? 1 - stepLr * s.weightDecay : 1,
        });
      }
    },
    toJSON: () => optimizerJson(fn, optimizer.config, { lr, step, m: encodeBuffers(moments('m/')), v: encodeBuffers(moments('v/')) }),
    loadState(state) {
      const at = `${fn}.loadState`;
      requireOptionsObject(at, state, 'state');
      rejectUnknownKeys(at, state, ['lr', 'step', 'm', 'v'], 'state key');
      const savedStep = requireInteger(at, 'step', state.step, 0);
      const savedLr = requireLearningRate(at, 'lr', state.lr);
      // v is a mean of squares: a negative value would make the next update NaN.
      const [m, v] = [decodeBuffers(at, 'm', state.m), decodeBuffers(at, 'v', state.v, true)];
      if (m.size !== v.size || [...m].some(([name, values]) => v.get(name)?.length !== values.length)) {
        throw new GradpipeError(at, 'the moments m and v must have buffers for the same parameters, of the same lengths');
      }
      if (savedStep === 0 && m.size > 0) throw new GradpipeError(at, 'step is 0, yet there are moments: they exist only after a step');
      step = savedStep;
      memory.clear();
      for (const [name, values] of m) memory.ensure(`m/${name}`, values.length, values);
      for (const [name, values] of v) memory.ensure(`v/${name}`, values.length, values);
      optimizer.lr = savedLr;
    },
  };
  return optimizer;
}
