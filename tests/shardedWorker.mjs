// One shard of a gradient set, in a worker thread (used by tests/shardedWorkers.test.ts).
// It clips its tensors with clipByGlobalNorm({ reduce }), where reduce is an all-reduce over shared memory:
// every worker writes its partial vector into its slot of a SharedArrayBuffer, waits at a barrier (Atomics),
// combines all slots in rank order, and waits again before the slots may be reused.
// Plain JavaScript importing the built @gradpipe/core, because a worker runs outside vitest's TypeScript transform.
import { parentPort, workerData } from 'node:worker_threads';
import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';

const { rank, worldSize, shared, slotLength, maxNorm, normType, grads } = workerData;
const slots = new Float64Array(shared.slots);
const control = new Int32Array(shared.control); // [arrived, generation]

/** Blocks until every worker has arrived (a sense-reversing barrier). */
function barrier() {
  const generation = Atomics.load(control, 1);
  if (Atomics.add(control, 0, 1) === worldSize - 1) {
    Atomics.store(control, 0, 0);
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
  } else {
    while (Atomics.load(control, 1) === generation) Atomics.wait(control, 1, generation);
  }
}

/** @type {import('@gradpipe/core').ShardReduce} */
async function reduce(partial, op) {
  slots.set(partial, rank * slotLength);
  barrier();
  const combined = new Float64Array(partial.length);
  for (let r = 0; r < worldSize; r++) {
    for (let k = 0; k < partial.length; k++) {
      const v = slots[r * slotLength + k];
      combined[k] = r === 0 ? v : op === 'sum' ? combined[k] + v : Math.max(combined[k], v);
    }
  }
  barrier(); // nobody writes the next round's partial before everyone has read this one
  return combined;
}

const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm, normType: normType === 'inf' ? Infinity : normType, reduce })]);
const result = await pipe.stepAsync(grads);
parentPort.postMessage({ grads: result.grads, transform: result.stats.transforms[0] });
