import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterAll, describe, expect } from 'vitest';
import { seedArb } from '../support/arbitraries.js';
import { checkRule, worstError } from '../support/gradientCheck.js';
import { recordWorst, reportWorst } from '../support/worst.js';

const TOLERANCE = 1e-3;
const RUNS = { seed: 42, numRuns: 20 };
afterAll(() => reportWorst('linear algebra'));

const dim = fc.integer({ min: 1, max: 4 });
/** MatMul operands: 1-D, 2-D or batched N-D with broadcast batch dims (numpy's rules). */
const matMulArb = fc
  .record({
    m: dim,
    k: dim,
    n: dim,
    rankA: fc.integer({ min: 1, max: 4 }),
    rankB: fc.integer({ min: 1, max: 4 }),
    batch: fc.array(dim, { minLength: 2, maxLength: 2 }),
    ones: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  })
  .map(({ m, k, n, rankA, rankB, batch, ones }) => {
    const batchOf = (rank: number, offset: number) => batch.slice(2 - Math.max(0, rank - 2)).map((d, i) => (ones[offset + i] ? 1 : d));
    const a = rankA === 1 ? [k] : [...batchOf(rankA, 0), m, k];
    const b = rankB === 1 ? [k] : [...batchOf(rankB, 2), k, n];
    return [a, b] as const;
  });

describe('MatMul', () => {
  test.prop([matMulArb, seedArb], RUNS)('1-D operands and N-D batched broadcasting', async ([a, b], seed) => {
    const check = await checkRule({ op: 'MatMul', inputs: [{ dims: a }, { dims: b }], seed });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('MatMul', check);
  });
});

describe('Gemm', () => {
  test.prop(
    [
      dim,
      dim,
      dim,
      fc.boolean(),
      fc.boolean(),
      fc.constantFrom(1, 0.5),
      fc.constantFrom(1, 2),
      fc.constantFrom('none', 'row', 'col', 'full', 'scalar'),
      seedArb,
    ],
    RUNS,
  )('transA, transB, alpha, beta and a broadcast C', async (m, k, n, transA, transB, alpha, beta, cShape, seed) => {
    const c = { none: null, row: { dims: [n] }, col: { dims: [m, 1] }, full: { dims: [m, n] }, scalar: { dims: [] } }[cShape];
    const check = await checkRule({
      op: 'Gemm',
      attributes: { transA: transA ? 1 : 0, transB: transB ? 1 : 0, alpha: { float: alpha }, beta: { float: beta } },
      inputs: [{ dims: transA ? [k, m] : [m, k] }, { dims: transB ? [n, k] : [k, n] }, c],
      seed,
    });
    expect(worstError(check)).toBeLessThan(TOLERANCE);
    recordWorst('Gemm', check);
  });
});

describe('Einsum', () => {
  // The forms attention and friends use; shapes from the letters.
  const forms: [string, string[]][] = [
    ['bhqd,bhkd->bhqk', ['bhqd', 'bhkd']],
    ['bhqk,bhkd->bhqd', ['bhqk', 'bhkd']],
    ['bij,bjk->bik', ['bij', 'bjk']],
    ['ij,jk', ['ij', 'jk']],
    ['bi,oi->bo', ['bi', 'oi']],
    ['...ij,...jk->...ik', ['xij', 'xjk']],
    ['bnd,d->bn', ['bnd', 'd']],
    ['ij->ji', ['ij']],
    ['ij->i', ['ij']],
    ['ijk,k->ij', ['ijk', 'k']],
    ['bi,bj->bij', ['bi', 'bj']],
  ];
  test.prop([fc.constantFrom(...forms), fc.dictionary(fc.constantFrom(...'bhqdkijnox'), dim, { minKeys: 10 }), seedArb], RUNS)(
    '%s',
    async ([equation, terms], sizes, seed) => {
      const dims = (t: string) => [...t].map((l) => sizes[l] ?? 2);
      const check = await checkRule({
        op: 'Einsum',
        attributes: { equation: { string: equation } },
        inputs: terms.map((t) => ({ dims: dims(t) })),
        seed,
        opset: 12,
      });
      expect(worstError(check)).toBeLessThan(TOLERANCE);
      recordWorst('Einsum', check);
    },
  );
});
