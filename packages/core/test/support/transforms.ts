/** Generators of transforms, for properties that must hold for every one of them. */

import {
  adaptiveClip,
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  type GradientTransform,
  type NanPolicy,
  nanGuard,
} from '@gradpipe/core';
import fc from 'fast-check';

/** A transform to build fresh for each pipeline, with a label that says what it is. */
export interface TransformMaker {
  readonly label: string;
  readonly make: () => GradientTransform;
}

const bound = fc.double({ min: 1e-30, max: 1e30, noNaN: true });

/**
 * Any built-in transform with any sensible options, bounds from 1e-30 to 1e30. `nanPolicies` limits nanGuard's
 * policies (leave out 'throw' where a run with NaN must go on).
 */
export function anyTransform(nanPolicies: readonly NanPolicy[] = ['skip', 'zero', 'throw']): fc.Arbitrary<TransformMaker> {
  return fc.oneof(
    fc.record({ bound, p: fc.constantFrom(1, 2, 3, 7.5, Infinity) }).map(({ bound, p }) => ({
      label: `clipByGlobalNorm({ maxNorm: ${bound}, normType: ${p} })`,
      make: () => clipByGlobalNorm({ maxNorm: bound, normType: p }),
    })),
    fc.record({ bound, p: fc.constantFrom(1, 2, 3, Infinity) }).map(({ bound, p }) => ({
      label: `clipByNorm({ maxNorm: ${bound}, normType: ${p} })`,
      make: () => clipByNorm({ maxNorm: bound, normType: p }),
    })),
    bound.map((c) => ({ label: `clipByValue(${c})`, make: () => clipByValue(c) })),
    fc.constantFrom(...nanPolicies).map((policy) => ({ label: `nanGuard({ policy: '${policy}' })`, make: () => nanGuard({ policy }) })),
    fc
      .record({
        percentile: fc.double({ min: 0, max: 100, noNaN: true }),
        window: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      })
      .map(({ percentile, window }) => ({
        label: `adaptiveClip({ method: 'percentile', percentile: ${percentile}, window: ${window} })`,
        make: () => adaptiveClip({ method: 'percentile', percentile, ...(window === undefined ? {} : { window }) }),
      })),
    fc
      .record({
        alpha: fc.double({ min: 0, max: 0.999, noNaN: true }),
        zThreshold: fc.double({ min: 0.1, max: 5, noNaN: true }),
        warmupSteps: fc.integer({ min: 1, max: 3 }),
        maxNorm: fc.option(bound, { nil: undefined }),
      })
      .map(({ maxNorm, ...o }) => ({
        label: `adaptiveClip({ method: 'zscore', ...${JSON.stringify(o)}, maxNorm: ${maxNorm} })`,
        make: () => adaptiveClip({ method: 'zscore', ...o, ...(maxNorm === undefined ? {} : { maxNorm }) }),
      })),
    fc
      .double({ min: 1e-6, max: 1, noNaN: true })
      .map((clipping) => ({ label: `agc({ clipping: ${clipping} })`, make: () => agc({ clipping }) })),
  );
}

/** Parameters for gradients (agc needs them): small fixed values, some zero. */
export function paramsLike(grads: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.map((_, i) => ((i * 7919) % 13) - 6)]));
}
