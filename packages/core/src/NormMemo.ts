import { globalNormOfNorms } from './exactGlobalNorm.js';
import type { Gradients } from './GradientTransform.js';
import type { TensorOps, UnitLayout } from './TensorOps.js';

interface Entry<S> {
  value: S;
  /** False when the value is derived (norm before × scale factor): good for reporting, not for deciding. */
  exact: boolean;
}

/**
 * Per-step memory of tensor norms, so the pipeline's own figures, nanGuard and clipByGlobalNorm share one
 * pass over the data. Every operation that changes a tensor goes through {@link NormMemo.ops}, which forgets
 * (or, for a fused scale, records) that tensor's norms.
 */
export class NormMemo<T, S> {
  /** L2 norms by tensor: the one every step needs, kept in its own map so that a lookup is a single probe. */
  private readonly l2 = new Map<T, Entry<S>>();
  /** Norms of other orders, by tensor and then by p. */
  private readonly others = new Map<T, Map<number, Entry<S>>>();
  /**
   * The tensors of each gradients object seen this step. Listing an object with thousands of keys is slow
   * (V8 sorts a large object's keys on every listing), and the same object is usually measured more than once.
   */
  private readonly tensorLists = new Map<Gradients<T>, T[]>();
  /** The backend's operations, wrapped so that changing a tensor updates the memory. */
  readonly ops: TensorOps<T, S>;

  constructor(private readonly base: TensorOps<T, S>) {
    const memo = this;
    this.ops = {
      ...base,
      norm: (t, p) => memo.norm(t, p),
      scale(t, factor) {
        // A factor of exactly 1 leaves the tensor bit-identical (TensorOps contract): its norms stay valid, and
        // the fused scale below would only re-read the data to measure a norm already known.
        if ((factor as unknown) === 1) return base.scale(t, factor);
        if (base.scaleWithNorm) return memo.ops.scaleWithNorm!(t, factor)[0];
        const before = memo.l2.get(t);
        const out = base.scale(t, factor);
        memo.forget(t, out);
        if (before) memo.remember(out, 2, base.mul(before.value, factor), false);
        return out;
      },
      scaleWithNorm: base.scaleWithNorm
        ? (t, factor) => {
            const [out, n] = base.scaleWithNorm!(t, factor);
            memo.forget(t, out);
            memo.remember(out, 2, n, true);
            return [out, n];
          }
        : undefined,
      clamp(t, min, max) {
        const [out, changed] = base.clamp(t, min, max);
        // A host flag of 0 means the tensor came back as it was: its norms stay valid.
        if (base.eager && (changed as unknown) === 0 && out === t) return [out, changed];
        return [memo.changed(t, out), changed];
      },
      zeroNonFinite: (t, isFinite) => memo.changed(t, base.zeroNonFinite(t, isFinite)),
      clipUnits: (t: T, layout: UnitLayout, norms: T, limits: T) => memo.changed(t, base.clipUnits(t, layout, norms, limits)),
    };
  }

  /** The exact p-norm of `t`, computed at most once while `t` is unchanged. */
  norm(t: T, p: number): S {
    const known = p === 2 ? this.l2.get(t) : this.others.get(t)?.get(p);
    if (known?.exact) return known.value;
    const value = this.base.norm(t, p);
    this.remember(t, p, value, true);
    return value;
  }

  /** The L2 norm of `t` for reporting: a derived value is good enough, else the exact one. */
  reportedNorm(t: T): S {
    return this.l2.get(t)?.value ?? this.norm(t, 2);
  }

  /** Global p-norm of `grads` from per-tensor norms (see {@link combineNorms}). */
  globalNorm(grads: Gradients<T>, p: number, reported = false): S {
    let tensors = this.tensorLists.get(grads);
    if (!tensors) this.tensorLists.set(grads, (tensors = Object.values(grads)));
    const norms: S[] = [];
    for (const t of tensors) norms.push(reported && p === 2 ? this.reportedNorm(t) : this.norm(t, p));
    return combineNorms(this.base, norms, p);
  }

  private changed(before: T, after: T): T {
    this.forget(before, after);
    return after;
  }

  private forget(before: T, after: T): void {
    this.l2.delete(before);
    this.l2.delete(after);
    if (this.others.size > 0) {
      this.others.delete(before);
      this.others.delete(after);
    }
  }

  private remember(t: T, p: number, value: S, exact: boolean): void {
    if (p === 2) {
      this.l2.set(t, { value, exact });
      return;
    }
    let byP = this.others.get(t);
    if (!byP) this.others.set(t, (byP = new Map()));
    byP.set(p, { value, exact });
  }
}

/**
 * Combines per-tensor p-norms into the norm of all tensors together: ‖·‖∞ is their max; otherwise
 * m·(Σ (nᵢ/m)^p)^(1/p) with m = max nᵢ, so no power can overflow even when the norms are ~1e38.
 * Non-finite iff some nᵢ is.
 *
 * With host numbers (eager backends) the sum is exact and independent of the order and grouping of the tensors,
 * so that shards combining their parts with `clipByGlobalNorm({ reduce })` get the very same float64.
 *
 * @example
 * ```ts
 * import { combineNorms, typedArrayOps } from '@gradpipe/core';
 * combineNorms(typedArrayOps, [3, 4], 2);        // 5
 * combineNorms(typedArrayOps, [3e38, 4e38], 2);  // 5e38, no overflow
 * combineNorms(typedArrayOps, [3, 4], Infinity); // 4
 * ```
 */
export function combineNorms<T, S>(ops: TensorOps<T, S>, norms: readonly S[], p: number): S {
  if (ops.eager) return globalNormOfNorms(norms as readonly unknown[] as readonly number[], p) as unknown as S;
  if (norms.length === 0) return ops.scalar(0);
  if (norms.length === 1) return norms[0] as S;
  let m = norms[0] as S;
  for (let i = 1; i < norms.length; i++) m = ops.max(m, norms[i] as S);
  if (p === Infinity) return m;
  // When every norm is 0, divide by 1 instead of 0 (0/0 would be NaN); a NaN m also divides by 1 and stays NaN.
  const divisor = ops.select(ops.greater(m, ops.scalar(0)), m, ops.scalar(1));
  let sum = ops.scalar(0);
  for (const n of norms) sum = ops.add(sum, ops.pow(ops.div(n, divisor), p));
  // An infinite norm among finite ones makes Inf/Inf = NaN above: report +Infinity, as the eager path does.
  return ops.select(ops.isFinite(m), ops.mul(m, ops.pow(sum, 1 / p)), m);
}
