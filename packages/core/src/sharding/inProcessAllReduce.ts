import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { requireInteger } from '../errors/validation.js';
import type { ReduceOp, ShardReduce } from './ShardReduce.js';

interface Round {
  op: ReduceOp;
  length: number;
  partials: (Float64Array | undefined)[];
  arrived: number;
  settle: ((combined: Float64Array | Error) => void)[];
  /** Set when shards disagreed on the op or length: every call of the round rejects with it. */
  failure?: GradpipeError;
}

/**
 * `worldSize` connected {@link ShardReduce} functions for shards that live in one JavaScript thread — for tests,
 * simulations and examples of sharded clipping. Shard `i` uses the `i`-th function; a call resolves once every
 * shard has made its call of the same round, with the element-wise sum or max of all their vectors.
 *
 * For shards in worker threads or processes, write a `ShardReduce` over your transport (docs/sharding.md).
 *
 * @example
 * ```ts
 * import { inProcessAllReduce } from '@gradpipe/core';
 * const [r0, r1] = inProcessAllReduce(2);
 * const [a, b] = await Promise.all([r0!(Float64Array.of(1, 5), 'sum'), r1!(Float64Array.of(2, 1), 'sum')]);
 * // a and b are both Float64Array [3, 6]
 * ```
 */
export function inProcessAllReduce(worldSize: number): ShardReduce[] {
  const fn = 'inProcessAllReduce';
  requireInteger(fn, 'worldSize', worldSize, 1);
  const rounds: Round[] = [];
  const callsPerShard = new Array<number>(worldSize).fill(0);

  const finish = (round: Round): void => {
    const combined = new Float64Array(round.length);
    for (const partial of round.partials) {
      for (let k = 0; k < round.length; k++) {
        combined[k] = round.op === 'sum' ? combined[k]! + partial![k]! : Math.max(combined[k]!, partial![k]!);
      }
    }
    // Every shard gets its own copy, as it would from a real collective.
    for (const settle of round.settle) settle(combined.slice());
  };

  return Array.from(
    { length: worldSize },
    (_, shard): ShardReduce =>
      (partial, op) =>
        new Promise((resolve, reject) => {
          const index = callsPerShard[shard]!++;
          let round = rounds[index];
          if (!round) {
            round = { op, length: partial.length, partials: new Array(worldSize), arrived: 0, settle: [] };
            rounds[index] = round;
          }
          if (round.failure) return reject(round.failure);
          round.settle.push((combined) => (combined instanceof Error ? reject(combined) : resolve(combined)));
          if (op !== round.op || partial.length !== round.length) {
            round.failure = new GradpipeError(
              fn,
              `shard ${shard} called round ${index} with op ${describeValue(op)} and ${partial.length} numbers, but another shard with op ${describeValue(round.op)} and ${round.length}`,
            );
            for (const settle of round.settle) settle(round.failure);
            round.settle = [];
            return;
          }
          round.partials[shard] = Float64Array.from(partial);
          if (++round.arrived === worldSize) {
            finish(round);
            delete rounds[index];
          }
        }),
  );
}
