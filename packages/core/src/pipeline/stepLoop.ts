import { GradpipeError } from '../errors/GradpipeError.js';
import { isAsync } from './DeferredSteps.js';
import type { AnyGradientTransform, TransformUpdate } from './GradientTransform.js';
import type { StepRun } from './StepRun.js';

type Update = TransformUpdate<unknown, unknown, unknown>;

/** One transform's update as `update` returned it: synchronous, or a promise the driver must await. */
interface Pending {
  readonly index: number;
  readonly update: Update | PromiseLike<Update>;
}

/**
 * The transform loop of every step, written once: each transform's update is handed to the driver, which resolves
 * it (awaits it, or refuses a promise) and hands it back to be recorded. Stops early once a step is known to be
 * skipped.
 */
function* transformLoop<T, S>(
  transforms: readonly AnyGradientTransform[],
  states: readonly unknown[],
  run: StepRun<T, S>,
): Generator<Pending, void, Update> {
  for (let i = 0; i < transforms.length; i++) {
    const update = yield {
      index: i,
      update: transforms[i]!.update(run.current, states[i] as never, run.ctx) as Update | PromiseLike<Update>,
    };
    if (run.record(update as TransformUpdate<T, S, unknown>)) return;
  }
}

const ignore = (): void => {};

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Runs the loop synchronously; a transform that returns a promise is refused (`instead` names what to call). */
/** Refuses a synchronous step of a pipeline with an asynchronous transform (a sharded clipByGlobalNorm). */
export function refuseAsync(fn: string, transforms: readonly AnyGradientTransform[]): void {
  const at = transforms.findIndex(isAsync);
  if (at >= 0) throw new GradpipeError(fn, `transforms[${at}] (${transforms[at]!.kind}) is asynchronous: use stepAsync or stepWithAsync`);
}

export function runTransforms<T, S>(
  fn: string,
  transforms: readonly AnyGradientTransform[],
  states: readonly unknown[],
  run: StepRun<T, S>,
  instead: string,
): void {
  const loop = transformLoop(transforms, states, run);
  for (let next = loop.next(); !next.done; ) {
    const { index, update } = next.value;
    if (isPromiseLike(update)) {
      update.then(ignore, ignore); // nobody will await it: don't let its failure surface as an unhandled rejection
      throw new GradpipeError(fn, `transforms[${index}] (${transforms[index]!.kind}) returned a promise: use ${instead}`);
    }
    next = loop.next(update);
  }
}

/** Runs the loop, awaiting every update. */
export async function runTransformsAsync<T, S>(
  transforms: readonly AnyGradientTransform[],
  states: readonly unknown[],
  run: StepRun<T, S>,
): Promise<void> {
  const loop = transformLoop(transforms, states, run);
  for (let next = loop.next(); !next.done; ) next = loop.next(await next.value.update);
}
