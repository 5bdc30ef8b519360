/**
 * Hostile input: saved state (issue 13, item 2 and item 6). Promise: take the saved JSON of a pipeline of every
 * built-in transform after some steps, and corrupt it anywhere — replace any node (a leaf, an object, an array) with
 * null / NaN / -1 / 1.5 / "60" / {} / [] / a huge number, delete a key or an array element, add a key or an element.
 * Then GradientPipeline.fromJSON either refuses it with a GradpipeError, or — the corruption happened to be a valid
 * state, such as one number replaced by another valid one — returns a pipeline whose next step on finite gradients
 * gives finite results and keeps every bound exactly. It never throws anything else, and never crashes the step.
 *
 * A refusal starts "GradientPipeline.fromJSON:", except for a corrupt config: that one is refused by the transform's
 * own factory, whose message starts with its kind (see knownGaps.test.ts).
 */

import {
  adaptiveClip,
  agc,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  GradientPipeline,
  GradpipeError,
  nanGuard,
  type PipelineJson,
} from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FLOAT32, norm64 } from '../support/arbitraries.js';

/** A pipeline of every built-in transform, both adaptive methods with and without their options. */
const pipeline = () =>
  new GradientPipeline([
    nanGuard({ policy: 'skip', maxConsecutive: 1000 }),
    clipByValue(10),
    clipByNorm({ maxNorm: 5, normType: 1 }),
    agc({ clipping: 0.5, exclude: ['b'] }),
    adaptiveClip({ method: 'percentile', percentile: 50 }),
    adaptiveClip({ method: 'percentile', percentile: 90, window: 4 }),
    adaptiveClip({ method: 'zscore', warmupSteps: 3, maxNorm: 8, clipFactor: 0.9 }),
    adaptiveClip({ method: 'zscore', warmupSteps: 2, clipOption: 'mean', skipUpdateOnSpike: true }),
    clipByGlobalNorm({ maxNorm: 1, normType: 2, errorIfNonfinite: true }),
  ]);

const params = () => ({ w: new Float32Array([1, -2, 0.5]), b: new Float32Array([1]) });
const value = fc.oneof({ weight: 9, arbitrary: fc.float({ min: -20, max: 20, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(NaN) });
/** Steps of gradients, now and then a NaN (skipped by nanGuard, counted in its state). */
const steps = fc.array(fc.tuple(fc.array(value, { minLength: 3, maxLength: 3 }), value), { maxLength: 8 });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/** Every node's path, the root included. */
function paths(node: unknown, at: Path = []): Path[] {
  const inner = Array.isArray(node)
    ? node.map((v, i) => paths(v, [...at, i]))
    : node !== null && typeof node === 'object'
      ? Object.entries(node).map(([k, v]) => paths(v, [...at, k]))
      : [];
  return [at, ...inner.flat()];
}

const REPLACEMENTS: readonly unknown[] = [null, NaN, -1, 1.5, '60', {}, [], 1e300, Number.MAX_VALUE, 0, -0, true, 'inf', Infinity, 2 ** 53];

/** What to do at the chosen node. */
type Corruption =
  | { readonly kind: 'replace'; readonly with: unknown }
  | { readonly kind: 'delete' }
  | { readonly kind: 'add'; readonly key: string; readonly value: unknown };
const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...REPLACEMENTS).map((w): Corruption => ({ kind: 'replace', with: w })) },
  { weight: 2, arbitrary: fc.constant<Corruption>({ kind: 'delete' }) },
  {
    weight: 2,
    arbitrary: fc
      .record({ key: fc.constantFrom('extra', 'stepCount', 'maxnorm', 'Sorted'), value: fc.constantFrom<unknown>(1, null, 0.5, 'x') })
      .map((a): Corruption => ({ kind: 'add', ...a })),
  },
);

/** Applies `c` at `path` of `root` (a fresh copy): the root itself can be replaced too. */
function corrupt(root: Json, path: Path, c: Corruption): unknown {
  if (path.length === 0) {
    if (c.kind === 'replace') return c.with;
    if (c.kind === 'delete') return undefined;
  }
  const parent = path.slice(0, -1).reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], root) as
    | Record<string | number, unknown>
    | unknown[];
  const key = path[path.length - 1]!;
  const target = path.length === 0 ? root : (parent as Record<string | number, unknown>)[key];
  if (c.kind === 'replace') (parent as Record<string | number, unknown>)[key] = c.with;
  else if (c.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Record<string, unknown>)[key];
  } else if (Array.isArray(target)) target.push(c.value);
  else if (target !== null && typeof target === 'object') (target as Record<string, unknown>)[c.key] = c.value;
  else (parent as Record<string | number, unknown>)[key] = c.value; // a leaf: "adding" replaces it
  return root;
}

/** The unit bounds of a resumed pipeline's transforms, checked on a step's final output. */
function checkBounds(
  resumed: GradientPipeline,
  out: Record<string, Float32Array>,
  p: Record<string, Float32Array>,
  thresholds: (number | undefined)[],
): void {
  const configs = resumed.toJSON().transforms.map((t) => t.config as Record<string, unknown>);
  const asNorm = (v: unknown) => (v === 'inf' ? Infinity : (v as number | undefined));
  resumed.transforms.forEach((t, i) => {
    const c = configs[i]!;
    if (t.kind === 'clipByGlobalNorm') expect(norm64(Object.values(out), asNorm(c.normType) ?? 2)).toBeLessThanOrEqual(asNorm(c.maxNorm)!);
    if (t.kind === 'clipByNorm')
      for (const g of Object.values(out)) expect(norm64([g], asNorm(c.normType) ?? 2)).toBeLessThanOrEqual(asNorm(c.maxNorm)!);
    if (t.kind === 'agc') {
      const clipping = (c.clipping as number | undefined) ?? 0.01;
      const eps = (c.eps as number | undefined) ?? 1e-3;
      for (const [k, g] of Object.entries(out))
        if (!((c.exclude as string[] | undefined) ?? []).includes(k))
          expect(norm64([g], 2)).toBeLessThanOrEqual(clipping * Math.max(norm64([p[k]!], 2), eps));
    }
    // An adaptive threshold may be the step's own norm (see ./gradients.test.ts): float64 rounding only.
    if (t.kind === 'adaptiveClip' && thresholds[i] !== undefined)
      expect(norm64(Object.values(out), 2)).toBeLessThanOrEqual(thresholds[i]! * (1 + 1e-14));
  });
}

describe('hostile saved state: fromJSON refuses a corrupt save with a GradpipeError, or resumes a valid one that clips exactly', () => {
  it('for any corruption of any node of a saved pipeline (property)', () => {
    const outcomes = { refused: 0, configRefused: 0, accepted: 0 };
    fc.assert(
      fc.property(
        steps,
        fc.nat(),
        corruption,
        fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 4, maxLength: 4 }),
        (run, at, c, next) => {
          const original = pipeline();
          for (const [w, b] of run) original.step({ w: Float32Array.from(w), b: Float32Array.of(b) }, { params: params() });
          const saved = JSON.parse(JSON.stringify(original)) as Json;
          const all = paths(saved);
          const path = all[at % all.length]!;
          const json = corrupt(saved, path, c);
          let resumed: GradientPipeline | undefined;
          let error: unknown;
          try {
            resumed = GradientPipeline.fromJSON(json as PipelineJson);
          } catch (e) {
            error = e;
          }
          if (error !== undefined) {
            if (!(error instanceof GradpipeError))
              throw new Error(`${JSON.stringify(path)} ${JSON.stringify(c)}: not a GradpipeError: ${String(error)}`);
            expect(error.fn).toBe('GradientPipeline.fromJSON');
            expect(error.message.startsWith('GradientPipeline.fromJSON: ')).toBe(true);
            const inConfig = path[0] === 'transforms' && path[2] === 'config';
            if (inConfig && error.message.includes('has a corrupt config: ')) {
              // The config's factory refused it; the message says which transform and carries the factory's words.
              const kind = (saved as { transforms: { kind: string }[] }).transforms[path[1] as number]!.kind;
              expect(error.message).toContain(`(${kind}) has a corrupt config: ${kind}: `);
              outcomes.configRefused++;
            } else {
              outcomes.refused++;
            }
            return;
          }
          // Accepted: a valid state. The next step on finite gradients must work, finite and within every bound.
          outcomes.accepted++;
          const grads = { w: Float32Array.from(next.slice(0, 3)), b: Float32Array.of(next[3]!) };
          const p = params();
          const { stats } = resumed!.step(grads, { params: p });
          expect(stats.skipped).toBe(false);
          for (const g of Object.values(grads)) for (const v of g) expect(Number.isFinite(v) && Math.abs(v) <= MAX_FLOAT32).toBe(true);
          for (const n of [stats.normBefore, stats.normAfter]) expect(Number.isFinite(n)).toBe(true);
          checkBounds(
            resumed!,
            grads,
            p,
            stats.transforms.map((t) => t.threshold),
          );
        },
      ),
      { seed: 42, numRuns: 200 },
    );
    // Every outcome happened: refusals of the pipeline's fields and states, refusals of configs, valid corruptions.
    expect(outcomes.refused).toBeGreaterThan(50);
    expect(outcomes.configRefused).toBeGreaterThan(5);
    expect(outcomes.accepted).toBeGreaterThan(10);
  });

  it('the uncorrupted save resumes bit-identically (the property starts from a valid state)', () => {
    const a = pipeline();
    const b = pipeline();
    const grads = () => ({ w: new Float32Array([3, -4, 12]), b: new Float32Array([5]) });
    for (let i = 0; i < 5; i++) {
      a.step(grads(), { params: params() });
      b.step(grads(), { params: params() });
    }
    const resumed = GradientPipeline.fromJSON(JSON.parse(JSON.stringify(a)));
    const x = grads();
    const y = grads();
    expect(resumed.step(x, { params: params() }).stats).toEqual(b.step(y, { params: params() }).stats);
    expect(Array.from(new Uint32Array(x.w.buffer))).toEqual(Array.from(new Uint32Array(y.w.buffer)));
  });
});
