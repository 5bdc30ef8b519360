import type { TensorOps } from '../backends/TensorOps.js';
import { NormMemo } from '../norms/NormMemo.js';
import type { AnyGradientTransform, Gradients, StepOutcome, TransformContext, TransformUpdate } from './GradientTransform.js';
import { type Handle, ReadBack, ReadValues } from './ReadBack.js';
import type { StepOptions } from './StepOptions.js';
import type { StepStats, TransformStats } from './StepStats.js';
import { deepFreeze } from './snapshot.js';

/** The handles of one transform's scalars in the step's read-back. */
interface TransformReads {
  readonly skip?: Handle;
  readonly clipped?: Handle;
  readonly threshold?: Handle;
  readonly figures: readonly (readonly [string, Handle])[];
}

/** Every scalar a step reads back, by handle. */
export interface StepReads<S> {
  readonly read: ReadBack<S>;
  readonly normBefore: Handle;
  readonly normAfter: Handle;
  readonly inputNorms: readonly Handle[];
  readonly transforms: readonly TransformReads[];
  readonly loss?: Handle;
}

/** A step's figures once read back: what the transforms' commits and the stats are made from. */
export interface ReadStep {
  readonly normBefore: number;
  readonly normAfter: number;
  readonly inputNorms: readonly number[];
  readonly loss: number | undefined;
  readonly transforms: TransformStats[];
  readonly outcome: StepOutcome;
}

/**
 * One step in progress: the memoised norms of its input, the gradients as the transforms change them, and their
 * updates, until the figures are read back.
 */
export class StepRun<T, S> {
  readonly memo: NormMemo<T, S>;
  readonly ctx: TransformContext<T, S>;
  readonly updates: TransformUpdate<T, S, unknown>[] = [];
  current: Gradients<T>;
  private readonly inputNorms: readonly S[];
  private readonly normBefore: S;

  constructor(
    readonly ops: TensorOps<T, S>,
    grads: Gradients<T>,
    readonly names: readonly string[],
    readonly step: number,
    options: StepOptions<T, S>,
    measureNormAfter: boolean,
  ) {
    this.memo = new NormMemo(ops, measureNormAfter);
    const tensors = names.map((n) => grads[n]!);
    this.memo.listed(grads, tensors);
    this.inputNorms = tensors.map((t) => this.memo.norm(t, 2));
    // Through the memo: a transform asking for the same global norm (clipByGlobalNorm) gets this one.
    this.normBefore = this.memo.globalNorm(grads, 2);
    this.current = grads;
    this.ctx = {
      ops: this.memo.ops,
      step,
      params: options.params,
      shapes: options.shapes,
      globalNorm: (g: Gradients<T>, p: number) => this.memo.globalNorm(g, p),
    };
  }

  /** Takes one transform's update into the step. True when the remaining transforms need not run. */
  record(update: TransformUpdate<T, S, unknown>): boolean {
    this.updates.push(update);
    this.current = update.grads;
    // With host scalars the skip decision is already known: later transforms need not touch the data.
    return this.ops.eager && (update.decisions?.skip as unknown) === 1;
  }

  /** The guards' skip decisions combined (1: don't apply), as a backend scalar; undefined when none can skip. */
  skipScalar(): S | undefined {
    const skips: S[] = [];
    for (const u of this.updates) if (u.decisions?.skip !== undefined) skips.push(u.decisions.skip);
    return skips.length === 0 ? undefined : skips.reduce((a, b) => this.ops.max(a, b));
  }

  /** Every scalar the step's figures need, to be read back in one call. */
  reads(loss: number | S | undefined): StepReads<S> {
    const read = new ReadBack<S>();
    const normBefore = read.add(this.normBefore);
    // Reported, not decided on: after a common clip factor this is normBefore × factor, one operation.
    const normAfter = read.add(this.memo.globalNorm(this.current, 2, true));
    const inputNorms = this.inputNorms.map((n) => read.add(n));
    const transforms = this.updates.map((u): TransformReads => {
      const d = u.decisions ?? {};
      return {
        ...(d.skip === undefined ? {} : { skip: read.add(d.skip) }),
        ...(d.clipped === undefined ? {} : { clipped: read.add(d.clipped) }),
        ...(d.threshold === undefined ? {} : { threshold: read.add(d.threshold) }),
        figures: Object.entries(u.figures ?? {}).map(([name, s]) => [name, read.add(s)] as const),
      };
    });
    const onBackend = loss !== undefined && typeof loss !== 'number';
    return { read, normBefore, normAfter, inputNorms, transforms, ...(onBackend ? { loss: read.add(loss as S) } : {}) };
  }

  /** Turns the values read back into the step's figures; the transforms' commits are not run yet. */
  private figures(reads: StepReads<S>, values: readonly number[], kinds: readonly string[], loss: number | S | undefined): ReadStep {
    const v = new ReadValues(values);
    const transforms = reads.transforms.map((t, i): TransformStats => {
      const threshold = v.maybe(t.threshold);
      return {
        kind: kinds[i]!,
        skip: v.maybe(t.skip) === 1,
        clipped: v.maybe(t.clipped) === 1,
        ...(threshold === undefined ? {} : { threshold }),
        figures: Object.fromEntries(t.figures.map(([name, h]) => [name, v.get(h)])),
      };
    });
    const inputNorms = reads.inputNorms.map((h) => v.get(h));
    const nonFinite = this.names.filter((_, i) => !Number.isFinite(inputNorms[i]!));
    return {
      normBefore: v.get(reads.normBefore),
      normAfter: v.get(reads.normAfter),
      inputNorms,
      loss: reads.loss === undefined ? (loss as number | undefined) : v.get(reads.loss),
      transforms,
      outcome: { step: this.step, skipped: transforms.some((t) => t.skip), nonFinite },
    };
  }

  /**
   * The step's end: its stats from the values read back, and every transform's next state. A commit that throws
   * (nanGuard's `'throw'`) throws here, before anything is changed: the caller keeps its states.
   */
  settle(
    reads: StepReads<S>,
    values: readonly number[],
    transforms: readonly AnyGradientTransform[],
    states: readonly unknown[],
    options: StepOptions<T, S>,
  ): { states: unknown[]; stats: StepStats; tensorNorms: Record<string, number> } {
    const read = this.figures(
      reads,
      values,
      transforms.map((t) => t.kind),
      options.loss,
    );
    const { outcome, loss } = read;
    const next = states.slice();
    this.updates.forEach((u, i) => {
      if (u.commit) next[i] = u.commit(read.transforms[i]!.figures, outcome);
    });
    const threshold = read.transforms.findLast((t) => Number.isFinite(t.threshold))?.threshold;
    const stats: StepStats = deepFreeze({
      step: this.step,
      normBefore: read.normBefore,
      normAfter: read.normAfter,
      clipped: read.transforms.some((t) => t.clipped),
      skipped: outcome.skipped,
      ...(threshold === undefined ? {} : { threshold }),
      nonFinite: outcome.nonFinite,
      ...(loss === undefined ? {} : { loss }),
      ...(options.lr === undefined ? {} : { lr: options.lr }),
      transforms: read.transforms,
    });
    const tensorNorms = Object.fromEntries(this.names.map((n, i) => [n, read.inputNorms[i]!]));
    return { states: next, stats, tensorNorms };
  }
}
