import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { adaptiveClip } from '../transforms/adaptiveClip.js';
import { agc } from '../transforms/agc.js';
import { clipByGlobalNorm } from '../transforms/clipByGlobalNorm.js';
import { clipByNorm } from '../transforms/clipByNorm.js';
import { clipByValue } from '../transforms/clipByValue.js';
import { nanGuard } from '../transforms/nanGuard.js';
import type { AnyGradientTransform, JsonObject } from './GradientTransform.js';

/** Rebuilds a transform from its JSON config, for {@link GradientPipeline.fromJSON}. */
export type TransformFactory = (config: JsonObject) => AnyGradientTransform;

/**
 * A transform's factory as a {@link TransformFactory}. The one cast of saved configs into options is here, and it
 * is safe: every built-in factory checks its options at run time and refuses what is not valid.
 */
const fromConfig =
  <O>(make: (options: O) => AnyGradientTransform): TransformFactory =>
  (config) =>
    make(config as unknown as O);

const BUILT_IN: Readonly<Record<string, TransformFactory>> = Object.freeze({
  clipByValue: fromConfig(clipByValue),
  clipByNorm: fromConfig(clipByNorm),
  clipByGlobalNorm: fromConfig(clipByGlobalNorm),
  nanGuard: fromConfig(nanGuard),
  adaptiveClip: fromConfig(adaptiveClip),
  agc: fromConfig(agc),
});

/** Checks the caller's factories for custom transforms: a plain object of functions. */
export function checkFactories(fn: string, factories: unknown): Readonly<Record<string, TransformFactory>> {
  if (factories === undefined) return {};
  if (typeof factories !== 'object' || factories === null || Array.isArray(factories)) {
    throw new GradpipeError(fn, `transforms must be an object of factories by kind, got ${describeValue(factories)}`);
  }
  for (const [kind, make] of Object.entries(factories)) {
    if (typeof make !== 'function')
      throw new GradpipeError(fn, `transforms.${kind} must be a factory function (config) => transform, got ${describeValue(make)}`);
  }
  return factories as Record<string, TransformFactory>;
}

/**
 * The factory of a saved transform's kind: the caller's first, then the built-ins. Own properties only, so a
 * kind such as `"constructor"` or `"toString"` is unknown rather than found on `Object.prototype`.
 */
export function factoryFor(kind: string, custom: Readonly<Record<string, TransformFactory>>): TransformFactory | undefined {
  if (Object.hasOwn(custom, kind)) return custom[kind];
  if (Object.hasOwn(BUILT_IN, kind)) return BUILT_IN[kind];
  return undefined;
}

/** The kinds `fromJSON` can rebuild, for an error message. */
export function knownKinds(custom: Readonly<Record<string, TransformFactory>>): string[] {
  return [...new Set([...Object.keys(custom), ...Object.keys(BUILT_IN)])];
}
