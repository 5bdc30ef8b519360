import type { TensorOps, UnitLayout } from '../backends/TensorOps.js';
import type { Gradients } from '../pipeline/GradientTransform.js';
import { combineNorms } from './combineNorms.js';

/** What the memo knows of one tensor's norm. */
type Entry<S> = MeasuredNorm<S> | ScaledNorm<S>;

/** A norm measured on the tensor itself: exact, good for deciding. */
interface MeasuredNorm<S> {
  readonly exact: true;
  readonly value: S;
}

/**
 * The L2 norm of a tensor made by scaling another one, whose norm was `from`, by `factor` (a clip factor, ≥ 0):
 * ‖c·g‖ = c·‖g‖ up to rounding, so good for reporting, not for deciding. Its value is computed only when someone
 * asks for it.
 */
interface ScaledNorm<S> {
  readonly exact: false;
  readonly from: Entry<S>;
  readonly factor: S;
  value?: S;
}

/**
 * A global norm and the per-tensor entries it was combined from. It stays valid while every one of them is still
 * the memo's entry for its tensor (a change to a tensor replaces the entry), and it is exact when they all are.
 */
interface Combination<S> {
  readonly p: number;
  readonly parts: readonly Entry<S>[];
  readonly value: S;
}

/**
 * Per-step memory of norms, so the pipeline's own figures, nanGuard and clipByGlobalNorm share one pass over the
 * data and one combination of the per-tensor norms. Every operation that changes a tensor goes through
 * {@link NormMemo.ops}, which forgets (or, for a scale, derives) that tensor's norms.
 *
 * Combining per-tensor norms into a global one is cheap with host numbers but costs a few backend operations
 * per tensor on a device backend, so combinations are remembered too: the pipeline's norm before the step and
 * clipByGlobalNorm's norm are one computation, and the norm after scaling every tensor by one common factor is
 * that norm times the factor.
 */
export class NormMemo<T, S> {
  /** L2 norms by tensor: the one every step needs, kept in its own map so that a lookup is a single probe. */
  private readonly l2 = new Map<T, Entry<S>>();
  /** Norms of other orders, by tensor and then by p (always measured). */
  private readonly others = new Map<T, Map<number, MeasuredNorm<S>>>();
  /** Global norms computed this step (a handful), newest last. */
  private readonly combinations: Combination<S>[] = [];
  /**
   * The tensors of each gradients object seen this step. Listing an object with thousands of keys is slow
   * (V8 sorts a large object's keys on every listing), and the same object is usually measured more than once.
   */
  private readonly tensorLists = new Map<Gradients<T>, T[]>();
  /** The backend's operations, wrapped so that changing a tensor updates the memory. */
  readonly ops: TensorOps<T, S>;

  /**
   * `measureScaled`: measure the norm of a scaled tensor in the same pass (the backend's `scaleWithNorm`) instead
   * of deriving it from the factor — exact, at the price of the extra arithmetic.
   */
  constructor(
    private readonly base: TensorOps<T, S>,
    measureScaled = false,
  ) {
    const memo = this;
    this.ops = {
      ...base,
      norm: (t, p) => memo.norm(t, p),
      scale(t, factor) {
        // A factor of exactly 1 leaves the tensor bit-identical (TensorOps contract): its norms stay valid, and
        // the fused scale below would only re-read the data to measure a norm already known.
        if ((factor as unknown) === 1) return base.scale(t, factor);
        if (measureScaled && base.scaleWithNorm) return memo.ops.scaleWithNorm!(t, factor)[0];
        const before = memo.l2.get(t);
        const out = base.scale(t, factor);
        memo.forget(t, out);
        if (before) memo.l2.set(out, { exact: false, from: before, factor });
        return out;
      },
      scaleWithNorm: base.scaleWithNorm
        ? (t, factor) => {
            const [out, n] = base.scaleWithNorm!(t, factor);
            memo.forget(t, out);
            memo.l2.set(out, { exact: true, value: n });
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

  /** Tells the memo the tensors of `grads`, in key order, when the caller has listed them anyway. */
  listed(grads: Gradients<T>, tensors: T[]): void {
    this.tensorLists.set(grads, tensors);
  }

  /** The exact p-norm of `t`, computed at most once while `t` is unchanged. */
  norm(t: T, p: number): S {
    return this.measured(t, p).value;
  }

  /**
   * Global p-norm of `grads` from per-tensor norms (see {@link combineNorms}), exact unless `reported`: then, for
   * p = 2, derived norms of scaled tensors are good enough. Computed once while the tensors are unchanged, even
   * for another gradients object holding the same tensors.
   */
  globalNorm(grads: Gradients<T>, p: number, reported = false): S {
    let tensors = this.tensorLists.get(grads);
    if (!tensors) this.tensorLists.set(grads, (tensors = Object.values(grads)));
    const parts: Entry<S>[] = [];
    for (const t of tensors) parts.push(reported && p === 2 ? (this.l2.get(t) ?? this.measured(t, 2)) : this.measured(t, p));
    const known = this.combinationOf(parts, p);
    if (known) return known.value;
    const value =
      this.scaledCombination(parts, p) ??
      combineNorms(
        this.base,
        parts.map((e) => this.valueOf(e)),
        p,
      );
    this.combinations.push({ p, parts, value });
    return value;
  }

  /** The measured p-norm entry of `t`, measuring it unless it is known. */
  private measured(t: T, p: number): MeasuredNorm<S> {
    const known = p === 2 ? this.l2.get(t) : this.others.get(t)?.get(p);
    if (known?.exact) return known;
    const entry: MeasuredNorm<S> = { exact: true, value: this.base.norm(t, p) };
    if (p === 2) {
      this.l2.set(t, entry);
    } else {
      let byP = this.others.get(t);
      if (!byP) this.others.set(t, (byP = new Map()));
      byP.set(p, entry);
    }
    return entry;
  }

  /** The value of an entry; a scaled norm's is computed on first use (one backend multiplication). */
  private valueOf(entry: Entry<S>): S {
    if (entry.exact) return entry.value;
    return (entry.value ??= this.base.mul(this.valueOf(entry.from), entry.factor));
  }

  /** The combination made of exactly these entries, in this order, if there is one. */
  private combinationOf(parts: readonly Entry<S>[], p: number): Combination<S> | undefined {
    return this.combinations.find((c) => c.p === p && c.parts.length === parts.length && c.parts.every((e, i) => e === parts[i]));
  }

  /**
   * When every part is the norm of a tensor scaled by one common factor, and the norms they were scaled from form
   * a known combination: that global norm times the factor — one operation instead of a new combination.
   */
  private scaledCombination(parts: readonly Entry<S>[], p: number): S | undefined {
    const first = parts[0];
    if (first === undefined || first.exact) return undefined;
    const sources: Entry<S>[] = [];
    for (const e of parts) {
      if (e.exact || e.factor !== first.factor) return undefined;
      sources.push(e.from);
    }
    const known = this.combinationOf(sources, p);
    return known ? this.base.mul(known.value, first.factor) : undefined;
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
}
