/** How the shards' partial vectors are combined: element by element, by sum or by max. */
export type ReduceOp = 'sum' | 'max';

/**
 * An all-reduce across the shards of one gradient set, for {@link clipByGlobalNorm}'s `reduce` option.
 *
 * Every shard calls it with its own `partial` vector and the same `op`, in the same order; every shard's promise
 * resolves with the element-wise combination of all shards' vectors (the same vector on every shard), the way
 * `MPI_Allreduce` with `MPI_SUM` / `MPI_MAX` on doubles does. Shards that hold no tensors still take part.
 *
 * The vectors are short (at most 6 numbers) and hold only integers below 2^53 for `'sum'`, so any all-reduce
 * that adds doubles is exact whatever its order of addition: every shard computes the same norm, bit for bit,
 * as one process clipping all tensors would.
 *
 * @example An all-reduce over message passing (here: the parent thread combines, workers ask)
 * ```ts
 * import type { ShardReduce } from '@gradpipe/core';
 * import { parentPort } from 'node:worker_threads';
 *
 * const reduce: ShardReduce = (partial, op) =>
 *   new Promise((resolve) => {
 *     parentPort!.once('message', (combined: Float64Array) => resolve(combined));
 *     parentPort!.postMessage({ partial, op }); // the parent combines all workers' vectors and answers each
 *   });
 * ```
 */
export type ShardReduce = (partial: Float64Array, op: ReduceOp) => Promise<ArrayLike<number>>;
