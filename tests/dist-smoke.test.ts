/**
 * The built package, as a user gets it: plain Node ESM imports `@gradpipe/core` by name (resolved through
 * node_modules and package.json `exports` to dist/) and uses the API exactly as the foundation issue writes it.
 * Needs `npm run build` first (CI's `npm ci` runs it through the root `prepare` script).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

const script = String.raw`
import { GradientPipeline, clipByValue, clipByNorm, clipByGlobalNorm, nanGuard, adaptiveClip, agc } from '@gradpipe/core';
import { contractCases, referenceOutcomes } from '@gradpipe/core/testing';

const pipe = new GradientPipeline([nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })]);
const events = [];
pipe.events$.subscribe((e) => events.push(e));
const grads = { a: new Float32Array([3]), b: new Float32Array([4]) };
const result = pipe.step(grads);
const skippedStep = pipe.step({ a: new Float32Array([NaN]), b: new Float32Array([4]) });
const json = pipe.toJSON();
const resumed = GradientPipeline.fromJSON(JSON.parse(JSON.stringify(json)));

const w = new Float32Array([1, 0, 0, 1]);
const withParams = new GradientPipeline([agc({ clipping: 0.01, eps: 1e-3 })]).step(
  { w: new Float32Array([1, 0, 0, 0.001]) },
  { params: { w }, shapes: { w: [2, 2] } },
);
const others = new GradientPipeline([
  clipByValue({ min: -2, max: 2 }),
  clipByValue(1.5),
  clipByNorm({ maxNorm: 1, normType: 2 }),
  clipByGlobalNorm({ maxNorm: 1, normType: Infinity }),
  adaptiveClip({ method: 'percentile', percentile: 10, window: 100 }),
  adaptiveClip({ method: 'zscore', alpha: 0.97, zThreshold: 2.5, warmupSteps: 25, maxNorm: 10 }),
  nanGuard({ policy: 'zero', maxConsecutive: 3 }),
]).step({ x: new Float32Array([5, -5, 0.5]) });

console.log(JSON.stringify({
  resolved: import.meta.resolve('@gradpipe/core'),
  resolvedTesting: import.meta.resolve('@gradpipe/core/testing'),
  sameArrays: result.grads.a === grads.a && result.grads.b === grads.b,
  grads: { a: result.grads.a[0], b: result.grads.b[0] },
  skipped: [result.skipped, skippedStep.skipped],
  stats: result.stats,
  events: events.map((e) => [e.step, e.clipped, e.skipped, e.nonFinite]),
  json: json.transforms.map((t) => t.kind),
  resumedStep: resumed.stepCount,
  resumedNext: resumed.step({ a: new Float32Array([0.3]), b: new Float32Array([0.4]) }).stats.step,
  agc: Array.from(withParams.grads.w),
  others: { x: Array.from(others.grads.x), clipped: others.stats.clipped },
  contractCases: contractCases.length,
  reference345: referenceOutcomes(contractCases[0]).length,
}));
`;

describe('the built @gradpipe/core in plain Node ESM', () => {
  it('imports by name from dist and works exactly as the issue writes it', () => {
    expect(existsSync(`${root}packages/core/dist/index.js`), 'packages/core/dist is missing: run `npm run build` first').toBe(true);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);

    expect(r.resolved).toMatch(/\/packages\/core\/dist\/index\.js$/);
    expect(r.resolvedTesting).toMatch(/\/packages\/core\/dist\/testing\/index\.js$/);
    expect(r.sameArrays).toBe(true); // clipped in place
    expect(r.grads.a).toBeCloseTo(0.6, 6);
    expect(r.grads.b).toBeCloseTo(0.8, 6);
    expect(Math.hypot(r.grads.a, r.grads.b)).toBeLessThanOrEqual(1);
    expect(r.skipped).toEqual([false, true]);
    expect(r.stats).toMatchObject({ step: 0, normBefore: 5, clipped: true, skipped: false, threshold: 1, nonFinite: [] });
    expect(r.stats.normAfter).toBeLessThanOrEqual(1);
    expect(r.stats.transforms.map((t: { kind: string }) => t.kind)).toEqual(['nanGuard', 'clipByGlobalNorm']);
    expect(r.events).toEqual([
      [0, true, false, []],
      [1, false, true, ['a']],
    ]);
    expect(r.json).toEqual(['nanGuard', 'clipByGlobalNorm']);
    expect(r.resumedStep).toBe(2);
    expect(r.resumedNext).toBe(2);
    // agc: unit 0 (norm 1, weights norm 1) clipped to 0.01; unit 1 (norm 0.001 ≤ 0.01) unchanged.
    expect(r.agc[0]).toBeLessThanOrEqual(0.01);
    expect(r.agc[0]).toBeGreaterThan(0.0099999);
    expect(r.agc.slice(1)).toEqual([0, 0, Math.fround(0.001)]);
    expect(r.others.clipped).toBe(true);
    expect(Math.hypot(...r.others.x)).toBeLessThanOrEqual(1);
    expect(r.contractCases).toBeGreaterThan(5);
    expect(r.reference345).toBe(1);
  });
});
