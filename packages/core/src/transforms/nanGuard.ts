import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { rejectNullOptions, rejectUnknownKeys, requireInteger, requireOptionsObject } from '../errors/validation.js';
import type { Gradients, GradientTransform } from '../pipeline/GradientTransform.js';
import { count, stateObject } from './support/stateChecks.js';

/** What {@link nanGuard} does with a step that has a NaN or ±Infinity gradient. */
export type NanPolicy = 'skip' | 'zero' | 'throw';

/** Options of {@link nanGuard}. */
export interface NanGuardOptions {
  /**
   * - `'skip'` (default): the step is marked `skipped`; the caller must not apply it (the tfjs and ONNX
   *   adapters don't), and no later transform updates its state.
   * - `'zero'`: non-finite entries become 0 and the step goes on.
   * - `'throw'`: a {@link GradpipeError} naming the non-finite tensors.
   */
  policy?: NanPolicy;
  /** After this many non-finite steps in a row, throw even under `'skip'` or `'zero'`. Default: never. */
  maxConsecutive?: number;
}

/** The counters {@link nanGuard} keeps, like optax `apply_if_finite`. */
export interface NanGuardState {
  /** Steps with a non-finite gradient so far. */
  totalNonFinite: number;
  /** Non-finite steps in a row up to now (0 after a finite step). */
  consecutiveNonFinite: number;
}

const POLICIES: readonly NanPolicy[] = ['skip', 'zero', 'throw'];
const isPolicy = (value: unknown): value is NanPolicy => POLICIES.includes(value as NanPolicy);

/**
 * Guards against NaN and ±Infinity gradients. It costs no extra pass: a tensor has a non-finite entry exactly
 * when its (overflow-free) norm is non-finite, and that norm is shared with the pipeline and the clipping
 * transforms.
 *
 * @example
 * ```ts
 * import { GradientPipeline, nanGuard, clipByGlobalNorm } from '@gradpipe/core';
 * const pipe = new GradientPipeline([nanGuard({ policy: 'skip', maxConsecutive: 10 }), clipByGlobalNorm({ maxNorm: 1 })]);
 * const r = pipe.step({ w: new Float32Array([NaN, 1]) });
 * r.skipped;         // true: do not apply this step
 * r.stats.nonFinite; // ['w']
 * ```
 */
export function nanGuard(options: NanGuardOptions = {}): GradientTransform<NanGuardState> {
  const fn = 'nanGuard';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['policy', 'maxConsecutive']);
  rejectNullOptions(fn, options);
  const policy: unknown = options.policy ?? 'skip';
  if (!isPolicy(policy)) {
    throw new GradpipeError(fn, `policy must be one of 'skip', 'zero', 'throw', got ${describeValue(policy)}`);
  }
  const maxConsecutive = options.maxConsecutive === undefined ? Infinity : requireInteger(fn, 'maxConsecutive', options.maxConsecutive, 0);
  return {
    kind: fn,
    config: options.maxConsecutive === undefined ? { policy } : { policy, maxConsecutive },
    // 'throw' refuses any non-finite step; maxConsecutive refuses a long run of them.
    mayRefuse: policy === 'throw' || maxConsecutive !== Infinity,
    init: () => ({ totalNonFinite: 0, consecutiveNonFinite: 0 }),
    restoreState(saved) {
      const s = stateObject(saved, ['totalNonFinite', 'consecutiveNonFinite']);
      const totalNonFinite = count(s.totalNonFinite!, 'totalNonFinite');
      const consecutiveNonFinite = count(s.consecutiveNonFinite!, 'consecutiveNonFinite');
      if (consecutiveNonFinite > totalNonFinite)
        throw new Error(`consecutiveNonFinite ${consecutiveNonFinite} exceeds totalNonFinite ${totalNonFinite}`);
      if (consecutiveNonFinite > maxConsecutive)
        throw new Error(`consecutiveNonFinite ${consecutiveNonFinite} already exceeds maxConsecutive ${maxConsecutive}`);
      return { totalNonFinite, consecutiveNonFinite };
    },
    // On device backends the counters matter to commit only: a step may begin before the previous step's
    // figures are back. (Host backends, which read the counters in update, never defer a step.)
    updateUsesState: false,
    update(grads, state, { ops, step }) {
      const names = Object.keys(grads);
      const finite = names.map((name) => ops.isFinite(ops.norm(grads[name]!, 2)));
      const nonFinite = ops.sub(
        ops.scalar(1),
        finite.reduce((a, b) => ops.min(a, b), ops.scalar(1)),
      );
      // With host numbers the verdict is known now: a step that will exceed maxConsecutive is refused before
      // 'zero' changes the caller's arrays in place. (Device tensors are immutable: commit refuses those.)
      if (ops.eager && (nonFinite as unknown) === 1 && state.consecutiveNonFinite + 1 > maxConsecutive) {
        const bad = names.filter((_, i) => (finite[i] as unknown) !== 1);
        throw new GradpipeError(fn, tooMany(state.consecutiveNonFinite + 1, maxConsecutive, where(step, bad)));
      }
      const out: Gradients<(typeof grads)[string]> = {};
      names.forEach((name, i) => {
        out[name] = policy === 'zero' ? ops.zeroNonFinite(grads[name]!, finite[i]!) : grads[name]!;
      });
      return {
        grads: out,
        decisions: policy === 'zero' ? {} : { skip: nonFinite },
        figures: { nonFinite },
        commit(figures, outcome) {
          if (figures.nonFinite !== 1) return { totalNonFinite: state.totalNonFinite, consecutiveNonFinite: 0 };
          const at = where(outcome.step, outcome.nonFinite);
          if (policy === 'throw') throw new GradpipeError(fn, `non-finite gradient values ${at}`);
          const next = { totalNonFinite: state.totalNonFinite + 1, consecutiveNonFinite: state.consecutiveNonFinite + 1 };
          if (next.consecutiveNonFinite > maxConsecutive) {
            throw new GradpipeError(fn, tooMany(next.consecutiveNonFinite, maxConsecutive, at));
          }
          return next;
        },
      };
    },
  };
}

/** Where a non-finite step was, for the error messages. */
function where(step: number, names: readonly string[]): string {
  return `at step ${step} in ${names.map((n) => JSON.stringify(n)).join(', ') || 'the gradients'}`;
}

function tooMany(count: number, max: number, at: string): string {
  return `${count} consecutive steps with non-finite gradients exceed maxConsecutive ${max} (last ${at})`;
}
