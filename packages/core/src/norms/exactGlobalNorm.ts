import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import type { ReduceOp, ShardReduce } from '../sharding/ShardReduce.js';

/*
 * The global p-norm of many tensors from their per-tensor norms nᵢ, computed so that the result does not depend
 * on how the tensors are grouped: one process holding all of them and N shards holding a part each get the same
 * float64, bit for bit. That is what lets sharded training clip exactly as unsharded training does.
 *
 * How: M = max nᵢ (max is exact in any order); every term (nᵢ/M)^p ∈ [0, 1] is rounded once, the same way
 * wherever it is computed; the terms are added exactly, as integers, in a fixed-point accumulator (an integer
 * part and four 32-bit fraction limbs, a resolution of 2⁻¹²⁸, far below a float64 ulp of the sum, which is ≥ 1).
 * Integer limbs below 2^53 add exactly as doubles in any order, so shards can combine accumulators with any
 * all-reduce. The norm is M · (Σ)^(1/p), and L∞ is just M.
 */

const LIMB = 2 ** 32;
const LIMB_SCALES = [1, 2 ** -32, 2 ** -64, 2 ** -96, 2 ** -128] as const;
/** Integer part, then four fraction limbs. */
const SUM_LENGTH = 5;
/** Terms added between carry normalisations, so that a limb stays far below 2^53. */
const TERMS_PER_CARRY = 2 ** 20;

/** [largest finite norm, 1 if some norm is NaN, 1 if some norm is ±Infinity]; combined by element-wise max. */
function maxPartial(norms: readonly number[]): Float64Array {
  let max = 0;
  let nan = 0;
  let inf = 0;
  for (const n of norms) {
    if (Number.isNaN(n)) nan = 1;
    else if (n === Infinity || n === -Infinity) inf = 1;
    else if (n > max) max = n;
  }
  return Float64Array.of(max, nan, inf);
}

/** The combined max: NaN when some shard saw a NaN, Infinity when some saw an infinity, else the max. */
function maxOf(combined: ArrayLike<number>): number {
  if (combined[1]! > 0) return NaN;
  if (combined[2]! > 0) return Infinity;
  return combined[0]!;
}

/** Carries every limb's overflow into the limb above, so that fraction limbs are in [0, 2^32). */
function carry(sum: Float64Array): void {
  for (let j = SUM_LENGTH - 1; j > 0; j--) {
    const over = Math.floor(sum[j]! / LIMB);
    sum[j] = sum[j]! - over * LIMB;
    sum[j - 1] = sum[j - 1]! + over;
  }
}

/** The fixed-point accumulator of Σ (nᵢ/M)^p over this shard's norms (all finite, ≤ M, M > 0). */
function powerSumPartial(norms: readonly number[], p: number, max: number): Float64Array {
  const sum = new Float64Array(SUM_LENGTH);
  let sinceCarry = 0;
  for (const n of norms) {
    const q = n / max;
    let r = p === 2 ? q * q : p === 1 ? q : q ** p;
    // r ∈ [0, 1]: peel off the integer part, then 32 bits at a time. Every step is exact in float64.
    const whole = Math.floor(r);
    sum[0] = sum[0]! + whole;
    r -= whole;
    for (let j = 1; j < SUM_LENGTH; j++) {
      r *= LIMB;
      const digit = Math.floor(r);
      sum[j] = sum[j]! + digit;
      r -= digit;
    }
    if (++sinceCarry === TERMS_PER_CARRY) {
      carry(sum);
      sinceCarry = 0;
    }
  }
  carry(sum);
  return sum;
}

/** M · (Σ)^(1/p) from the combined accumulator. Canonical limbs make the float64 value the same everywhere. */
function normFromPowerSum(combined: ArrayLike<number>, p: number, max: number): number {
  const sum = Float64Array.from(combined);
  carry(sum);
  let total = 0;
  for (let j = SUM_LENGTH - 1; j >= 0; j--) total += sum[j]! * LIMB_SCALES[j]!;
  const root = p === 2 ? Math.sqrt(total) : p === 1 ? total : total ** (1 / p);
  return max * root;
}

/**
 * The global p-norm of tensors whose own p-norms are `norms` (host numbers), grouping-independent: see above.
 * Non-finite iff some norm is (NaN when some is NaN, else Infinity).
 */
export function globalNormOfNorms(norms: readonly number[], p: number): number {
  const max = maxOf(maxPartial(norms));
  if (p === Infinity || max === 0 || !Number.isFinite(max)) return max;
  return normFromPowerSum(powerSumPartial(norms, p, max), p, max);
}

/**
 * The same global p-norm when the tensors are split across shards: this shard's `norms`, combined with the other
 * shards' through `reduce` (one `'max'` all-reduce, then, for finite p, one `'sum'` all-reduce). Every shard
 * gets the float64 that {@link globalNormOfNorms} gives for all the tensors together.
 *
 * The sum also carries the shards' element counts (`elements` is this shard's), because the clip factor depends
 * on the total; the result holds the total whenever the norm is finite, non-zero and of finite p — the only
 * case where it matters.
 */
export async function shardedGlobalNormOfNorms(
  norms: readonly number[],
  elements: number,
  p: number,
  reduce: ShardReduce,
  fn: string,
): Promise<{ norm: number; elements: number }> {
  const max = maxOf(await allReduce(reduce, maxPartial(norms), 'max', fn));
  if (p === Infinity || max === 0 || !Number.isFinite(max)) return { norm: max, elements };
  const partial = new Float64Array(SUM_LENGTH + 1);
  partial.set(powerSumPartial(norms, p, max));
  partial[SUM_LENGTH] = elements;
  const combined = Array.from(await allReduce(reduce, partial, 'sum', fn));
  return { norm: normFromPowerSum(combined.slice(0, SUM_LENGTH), p, max), elements: combined[SUM_LENGTH]! };
}

async function allReduce(reduce: ShardReduce, partial: Float64Array, op: ReduceOp, fn: string): Promise<ArrayLike<number>> {
  const length = partial.length;
  const combined: unknown = await reduce(partial, op);
  const ok =
    typeof combined === 'object' &&
    combined !== null &&
    (combined as ArrayLike<unknown>).length === length &&
    Array.from(combined as ArrayLike<unknown>).every((v) => typeof v === 'number' && !Number.isNaN(v) && v >= 0);
  if (!ok) {
    throw new GradpipeError(
      fn,
      `reduce(partial, '${op}') must resolve with ${length} non-negative numbers (the element-wise ${op} of every shard's partial), got ${describeValue(combined)}`,
    );
  }
  return combined as ArrayLike<number>;
}
