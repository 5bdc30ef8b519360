import type { AnyGradientTransform, Gradients } from './GradientTransform.js';

/**
 * True when a transform that may refuse a step (see `mayRefuse`) runs after another one: by the time it refuses,
 * the one before may have changed the caller's typed arrays in place.
 */
export function refusesLate(transforms: readonly AnyGradientTransform[]): boolean {
  return transforms.some((t, i) => i > 0 && t.mayRefuse === true);
}

/**
 * Runs `step`; when `needed` and it throws, first puts the caller's typed arrays back as they were — a refused
 * step changes nothing. The copy is taken only when needed, so pipelines whose refusing transforms come first
 * pay nothing for it.
 */
export function restoreOnRefusal<T, R>(needed: boolean, grads: Gradients<T>, step: () => R): R {
  if (!needed) return step();
  const saved = backup(grads);
  try {
    const result = step();
    if (result instanceof Promise) return result.catch((error: unknown) => restoreAndThrow(saved, error)) as R;
    return result;
  } catch (error) {
    return restoreAndThrow(saved, error);
  }
}

/** Each array with its copy. */
type Saved = readonly (readonly [Float32Array, Float32Array])[];

function backup<T>(grads: Gradients<T>): Saved {
  const saved: [Float32Array, Float32Array][] = [];
  for (const t of Object.values(grads)) {
    if (t instanceof Float32Array) saved.push([t, t.slice()]);
  }
  return saved;
}

function restoreAndThrow(saved: Saved, error: unknown): never {
  for (const [target, copy] of saved) target.set(copy);
  throw error;
}
