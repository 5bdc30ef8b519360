import * as tf from '@tensorflow/tfjs-core';

/** A read waiting for the next batch: its vector and what to do with the numbers. */
interface Waiting {
  readonly values: tf.Tensor1D;
  resolve(numbers: number[]): void;
  reject(error: unknown): void;
}

let waiting: Waiting[] = [];

/**
 * Reads a float32 vector from the device asynchronously, together with every other read asked for in the same
 * task: steps issued back to back (a training loop, an epoch of `model.fit` between two yields) cost one
 * `data()` — one GPU fence, one transfer — instead of one each. `values` is this module's from now on: it is
 * disposed once read. The numbers come back in the order the reads were asked for.
 */
export function readBatched(values: tf.Tensor1D): Promise<number[]> {
  return new Promise((resolve, reject) => {
    if (waiting.length === 0) setTimeout(flush, 0);
    waiting.push({ values, resolve, reject });
  });
}

async function flush(): Promise<void> {
  const batch = waiting;
  waiting = [];
  const all = batch.length === 1 ? batch[0]!.values : tf.concat(batch.map((w) => w.values));
  try {
    const numbers = await all.data();
    let at = 0;
    for (const w of batch) {
      w.resolve(Array.from(numbers.subarray(at, at + w.values.size)));
      at += w.values.size;
    }
  } catch (error) {
    for (const w of batch) w.reject(error);
  } finally {
    tf.dispose(batch.map((w) => w.values));
    if (all !== batch[0]!.values) all.dispose();
  }
}
