import type { TensorOps } from '../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import type { AnyGradientTransform } from './GradientTransform.js';
import type { StepStats } from './StepStats.js';

/** True for a transform whose update must be awaited. */
export const isAsync = (t: AnyGradientTransform): boolean => 'async' in t && t.async === true;

const ignore = (): void => {};

/**
 * The bookkeeping of deferred steps ({@link GradientPipeline.stepWithDeferred}): their figures settle in the
 * order the steps were issued, and once one is refused (a transform's commit threw) every later step is refused
 * with the same error.
 */
export class DeferredSteps {
  /** Steps whose figures are not committed yet. */
  pending = 0;
  /** Settles after the last step issued: the next one settles after it, so events keep step order. */
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  /**
   * Refuses a deferred step that cannot begin: the backend cannot read asynchronously, or transform `blocker`
   * (the first whose update needs the figures of the step before; -1: none) would run without them.
   */
  checkCanIssue<T, S>(fn: string, ops: TensorOps<T, S>, transforms: readonly AnyGradientTransform[], blocker: number): void {
    if (typeof ops?.readAsync !== 'function') {
      throw new GradpipeError(fn, `the ${describeValue(ops?.name)} backend cannot read asynchronously (it has no readAsync): use stepWith`);
    }
    const t = transforms[blocker];
    if (t && isAsync(t)) throw new GradpipeError(fn, `transforms[${blocker}] (${t.kind}) is asynchronous: use stepWithAsync`);
    if (t && this.pending > 0) {
      throw new GradpipeError(
        fn,
        `transforms[${blocker}] (${t.kind}) needs the figures of the step before, still being read back: await pipe.settled() between steps`,
      );
    }
  }

  /**
   * Refuses a step that cannot begin now: a stepAsync is still running, an earlier deferred step was refused, or a
   * synchronous step would overtake deferred ones still waiting for their figures.
   */
  checkCanBegin(fn: string, deferred: boolean, asyncInFlight: boolean): void {
    if (asyncInFlight) throw new GradpipeError(fn, 'a stepAsync of this pipeline is still running: await it before the next step');
    this.throwIfFailed();
    if (!deferred && this.pending > 0) {
      throw new GradpipeError(
        fn,
        `${this.pending} deferred step(s) still wait for their figures: await pipe.settled() before a synchronous step`,
      );
    }
  }

  /** Throws unless every deferred step's figures are in (a save must not miss the last steps). */
  checkSettled(fn: string): void {
    if (this.pending === 0) return;
    throw new GradpipeError(
      fn,
      `${this.pending} deferred step(s) still wait for their figures, so the state is not final: await pipe.settled() first`,
    );
  }

  /** Throws the error that refused an earlier step, if one did. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Settles one step: once the steps before it have, and its values are read, `settle` turns them into stats. */
  issue(values: Promise<readonly number[]>, settle: (values: readonly number[]) => StepStats): Promise<StepStats> {
    this.pending++;
    const stats = this.tail
      .then(async () => {
        const read = await values;
        this.throwIfFailed();
        return settle(read);
      })
      .catch((error: unknown) => {
        this.failure ??= { error };
        throw error;
      })
      .finally(() => {
        this.pending--;
      });
    this.tail = stats.then(ignore, ignore);
    // The failure also reaches the next step and settled(): a caller who ignores `stats` gets no unhandled rejection.
    stats.catch(ignore);
    return stats;
  }

  /** Resolves once every step issued so far has settled; rejects with the error of a refused step. */
  settled(): Promise<void> {
    return this.tail.then(() => this.throwIfFailed());
  }
}
