import { describeValue, GradpipeError } from '@gradpipe/core';
import { rejectUnknownKeys, requireInRange, requireNonNegativeFinite, requireOptionsObject } from '@gradpipe/core/internal';
import { orDefault } from '../support/options.js';
import { KernelMemory } from './kernels/KernelMemory.js';
import type { Optimizer } from './Optimizer.js';
import { checkBuffers, checkUpdate, decodeBuffers, encodeBuffers, optimizerJson, requireLearningRate } from './Optimizer.js';
import type { ParamSelector } from './paramGroups.js';
import { ParamGroups } from './paramGroups.js';

/** Options of {@link sgd}, as in `torch.optim.SGD`. */
export interface SgdOptions {
  /** Learning rate (0 allowed: schedules may start there). */
  lr: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** Dampening of the momentum. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Other options for some parameters, like torch's param groups (first match wins). */
  groups?: readonly SgdGroup[];
}

/** A param group of {@link sgd}: the parameters, and the options that differ for them. */
export interface SgdGroup extends Partial<Omit<SgdOptions, 'groups'>> {
  /** Which parameters. */
  params: ParamSelector;
}

interface SgdSettings {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

function settings(fn: string, o: Record<string, unknown>, base?: SgdSettings): SgdSettings {
  const lr = o.lr === undefined && base ? base.lr : requireLearningRate(fn, 'lr', o.lr);
  const momentum = requireNonNegativeFinite(fn, 'momentum', orDefault(o.momentum, base?.momentum ?? 0));
  const dampening = requireInRange(fn, 'dampening', orDefault(o.dampening, base?.dampening ?? 0), 0, 1);
  const weightDecay = requireNonNegativeFinite(fn, 'weightDecay', orDefault(o.weightDecay, base?.weightDecay ?? 0));
  const nesterov = orDefault(o.nesterov, base?.nesterov ?? false);
  if (typeof nesterov !== 'boolean') throw new GradpipeError(fn, `nesterov must be a boolean, got ${describeValue(nesterov)}`);
  if (nesterov && (momentum <= 0 || dampening !== 0))
    throw new GradpipeError(fn, 'nesterov needs momentum > 0 and dampening 0 (as in PyTorch)');
  return { lr, momentum, dampening, nesterov, weightDecay };
}

/**
 * Stochastic gradient descent with `torch.optim.SGD`'s update: `g ← g + wd·p`; with momentum the buffer starts as
 * `g` on the first step, then `b ← μ·b + (1 − dampening)·g`; Nesterov uses `g + μ·b`; `p ← p − lr·g`. Computed in
 * float32 operation by operation, in PyTorch's order, by a WebAssembly SIMD kernel.
 * `optimizer.lr` can be read and changed between steps; param groups keep their ratio to it.
 *
 * @example
 * ```ts
 * import { sgd } from '@gradpipe/onnxruntime';
 * const opt = sgd({ lr: 0.1, momentum: 0.9, groups: [{ params: /bias$/, weightDecay: 0 }] });
 * const params = { w: new Float32Array([1, 2]) };
 * opt.update(params, { w: new Float32Array([0.5, -0.5]) }); // params.w → [0.95, 2.05]
 * opt.lr = 0.01; // the next step uses 0.01
 * ```
 */
export function sgd(options: SgdOptions): Optimizer {
  const fn = 'sgd';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'groups']);
  const base = settings(fn, options as unknown as Record<string, unknown>);
  const groups = new ParamGroups(fn, options.groups, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'], (o, i) => {
    const s = settings(`${fn} (groups[${i}])`, o, base);
    if (o.lr !== undefined && base.lr === 0)
      throw new GradpipeError(fn, `groups[${i}].lr needs a base lr > 0 (a group keeps its ratio to it)`);
    return s;
  });
  let lr = base.lr;
  // Momentum buffers live in WebAssembly memory, where the SIMD kernel updates them.
  const memory = new KernelMemory();
  const buffers = () => new Map(memory.names().map((n) => [n, memory.buffer(n)!]));

  const optimizer: Optimizer = {
    kind: fn,
    get config() {
      return { ...base, groups: groups.toJSON() };
    },
    get lr() {
      return lr;
    },
    set lr(value: number) {
      lr = requireLearningRate('sgd.lr', 'lr', value);
    },
    bind(params) {
      groups.resolve(Object.keys(params));
      checkBuffers('sgd.bind', buffers(), params);
    },
    update(params, grads) {
      checkUpdate('sgd.update', params, grads);
      optimizer.bind!(params);
      for (const [name, g] of Object.entries(grads)) {
        const s = groups.of(name) ?? base;
        // A group's own lr keeps its ratio to the optimizer's lr as that changes (a schedule).
        const stepLr = s.lr === base.lr ? lr : (s.lr * lr) / base.lr;
        const p = params[name]!;
        // PyTorch starts the momentum buffer as the first step's gradient.
        const first = s.momentum !== 0 && memory.buffer(name) === undefined;
        if (s.momentum !== 0) memory.ensure(name, p.length);
        memory.sgd(p, g, s.momentum !== 0 ? name : undefined, {
          negLr: -stepLr,
          mu: s.momentum,
          dampening: s.dampening,
          wd: s.weightDecay,
          first,
          nesterov: s.nesterov,
        });
      }
    },
    toJSON: () => optimizerJson(fn, optimizer.config, { lr, momentumBuffers: encodeBuffers(buffers()) }),
    loadState(state) {
      const at = 'sgd.loadState';
      requireOptionsObject(at, state, 'state');
      rejectUnknownKeys(at, state, ['lr', 'momentumBuffers'], 'state key');
      const savedLr = requireLearningRate(at, 'lr', state.lr);
      const buffers = decodeBuffers(at, 'momentumBuffers', state.momentumBuffers);
      memory.clear();
      for (const [name, values] of buffers) memory.ensure(name, values.length, values);
      optimizer.lr = savedLr;
    },
  };
  return optimizer;
}
