/**
 * A smoke run of the benchmark with tiny sizes (the real run is `npm run bench`, never part of `npm test`), and
 * the correctness of what it times: the WASM SIMD kernels and the naive implementations must compute what core
 * computes, or their timings would mean nothing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normOf } from '@gradpipe/core';
import { describe, expect, it } from 'vitest';
import { compare, median } from '../src/measure.js';
import { clipWithHypot, clipWithPow, clipWithReduce } from '../src/naiveClipping.js';
import { verdict } from '../src/Row.js';
import { writeResults } from '../src/report.js';
import { torchRows } from '../src/torchRows.js';
import { typedArrayRows } from '../src/typedArrayRows.js';
import { wasmRows } from '../src/wasmRows.js';
import { zooRows } from '../src/zooRows.js';

describe('the naive implementations', () => {
  it('measure the same norm as core and clip to maxNorm', () => {
    for (const clip of [clipWithHypot, clipWithReduce, clipWithPow]) {
      const grads = { a: Float32Array.of(3, 0), b: Float32Array.of(4) };
      expect(clip(grads, 1)).toBeCloseTo(5, 12);
      expect(normOf(Float32Array.of(...grads.a, ...grads.b))).toBeCloseTo(1, 6);
    }
  });
});

describe('a quick run', () => {
  it('gives a positive ratio for every typed-array and WASM row', () => {
    const rows = [
      ...typedArrayRows({ group: 'smoke', tensors: 4, size: 1000, reps: 1, naiveReps: 1, targets: { noClip: 1e9, clips: 1e9 } }),
      ...wasmRows('smoke wasm', 4, 1000, 1),
    ];
    expect(rows.length).toBe(23);
    for (const row of rows) {
      expect(row.ratio, row.name).toBeGreaterThan(0);
      expect(Number.isFinite(row.ratio)).toBe(true);
    }
    expect(rows.filter((r) => r.target !== undefined).map(verdict)).toEqual(['met', 'met']);
  });

  it('times a training step of every zoo model and of an LSTM by sequence length', async () => {
    const rows = await zooRows({ batch: 2, reps: 1, lengths: [3] });
    expect(rows.length).toBe(12);
    for (const row of rows) {
      expect(row.ratio, row.name).toBeGreaterThan(0);
      expect(Number.isFinite(row.ratio)).toBe(true);
    }
  });

  it('times OrtTrainer against PyTorch side by side where torch is importable, and says so where it is not', async () => {
    const rows = await torchRows({ reps: 1 });
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) {
      if (row.note) expect(row.note).toContain('PyTorch is not importable');
      else expect(row.ratio, row.name).toBeGreaterThan(0);
    }
  });

  it('writes results.json with a verdict per row', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gradpipe-bench-')), 'results.json');
    writeResults(
      path,
      [
        { group: 'g', name: 'n', baseline: 'b', ratio: 2, target: 1.5 },
        { group: 'g', name: 'm', baseline: 'b', note: 'not yet' },
      ],
      { quick: true },
    );
    const written = JSON.parse(readFileSync(path, 'utf8'));
    expect(written.quick).toBe(true);
    expect(written.rows.map((r: { verdict: string }) => r.verdict)).toEqual(['MISSED', 'not measured']);
  });

  it('compare takes the median of per-repetition ratios', () => {
    let calls = 0;
    const result = compare({ baseline: () => calls++, candidate: () => calls++, reps: 3 });
    expect(result.reps).toBe(3);
    expect(calls).toBe(8); // one warm-up of each, then 3 pairs
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
