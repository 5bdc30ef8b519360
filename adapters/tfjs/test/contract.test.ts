import type { TensorOps } from '@gradpipe/core';
import { GradientPipeline, type StepStats } from '@gradpipe/core';
import { type ContractStep, contractCases, referenceOutcomes } from '@gradpipe/core/testing';
import { tfjsOps } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { portableTfjsOps } from '../src/tfjsOps.js';
import { BACKENDS, useBackend, withoutLeaks } from './backends.js';

/**
 * Relative tolerance (2⁻¹⁹ ≈ 1.9e-6) against the typed-array reference: float32 scalar arithmetic (the reference computes its
 * scalars in float64), a boundSafety of 1 − 2⁻²⁰ instead of 1 − 2⁻²³, and a few roundings of the norms.
 */
const REL = 2 ** -19;

function close(actual: number, expected: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= REL * Math.abs(expected) + 1e-44;
}

function expectClose(actual: number | undefined, expected: number | undefined, what: string): void {
  expect(actual === undefined, `${what}: present`).toBe(expected === undefined);
  if (actual === undefined || expected === undefined) return;
  expect(close(actual, expected), `${what}: got ${actual}, expected ${expected}`).toBe(true);
}

/** One contract step on tfjs tensors; returns plain numbers so nothing outlives the tidy. */
function runStep(
  ops: TensorOps<tf.Tensor, tf.Scalar>,
  pipe: GradientPipeline,
  step: ContractStep,
): { grads: Record<string, number[]>; skipped: boolean; stats: StepStats } {
  return tf.tidy(() => {
    const tensor = (name: string, values: readonly number[]) =>
      tf.tensor([...values], [...(step.shapes?.[name] ?? [values.length])], 'float32');
    const grads = Object.fromEntries(Object.entries(step.grads).map(([n, v]) => [n, tensor(n, v)]));
    const params = step.params ? Object.fromEntries(Object.entries(step.params).map(([n, v]) => [n, tensor(n, v)])) : undefined;
    const result = pipe.stepWith(ops, grads, {
      ...(params ? { params } : {}),
      ...(step.shapes ? { shapes: step.shapes as Record<string, number[]> } : {}),
    });
    const out = Object.fromEntries(Object.entries(result.grads).map(([n, g]) => [n, Array.from(g.dataSync())]));
    return { grads: out, skipped: result.skipped, stats: result.stats } as never;
  });
}

/**
 * On cpu and wasm, tfjsOps measures norms and scales with one-pass kernels over the backend's memory; the portable
 * ops (standard tfjs ops only, used on every other backend) run the same contract on both backends too.
 */
const CONFIGS = BACKENDS.flatMap((backend) => [
  { backend, label: 'tfjsOps', ops: tfjsOps },
  { backend, label: 'portable ops', ops: portableTfjsOps },
]);

describe.each(CONFIGS)('$label meet the backend contract on $backend', ({ backend, ops }) => {
  beforeAll(() => useBackend(backend));

  for (const c of contractCases) {
    it(c.name, async () => {
      await withoutLeaks(() => {
        const expected = referenceOutcomes(c);
        const pipe = new GradientPipeline(c.transforms());
        c.steps.forEach((step, i) => {
          const got = runStep(ops, pipe, step);
          const want = expected[i]!;
          const at = `step ${i}`;
          expect(got.skipped, `${at} skipped`).toBe(want.skipped);
          expect(got.stats.clipped, `${at} clipped`).toBe(want.stats.clipped);
          expect(got.stats.nonFinite, `${at} nonFinite`).toEqual(want.stats.nonFinite);
          expect(got.stats.step).toBe(want.stats.step);
          expectClose(got.stats.normBefore, want.stats.normBefore, `${at} normBefore`);
          expectClose(got.stats.normAfter, want.stats.normAfter, `${at} normAfter`);
          // On a skipped step the typed-array backend stops at the guard; tfjs runs every transform (it cannot know
          // the decision before the read-back), so only the transforms the reference ran are compared.
          if (!want.skipped) expectClose(got.stats.threshold, want.stats.threshold, `${at} threshold`);
          want.stats.transforms.forEach((t, k) => {
            expect(got.stats.transforms[k]!.kind).toBe(t.kind);
            for (const [name, value] of Object.entries(t.figures))
              expectClose(got.stats.transforms[k]!.figures[name], value, `${at} ${t.kind}.${name}`);
          });
          for (const [name, values] of Object.entries(want.grads)) {
            const actual = got.grads[name]!;
            expect(actual.length).toBe(values.length);
            values.forEach((v, j) => expect(close(actual[j]!, v), `${at} ${name}[${j}]: got ${actual[j]}, expected ${v}`).toBe(true));
          }
        });
      });
    });
  }
});
