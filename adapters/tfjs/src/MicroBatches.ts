import { describeValue, GradpipeError } from '@gradpipe/core';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './namedTensor.js';

/** The prefix of the weights {@link MicroBatches.weights} adds to the optimizer's, so `setWeights` can tell them apart. */
const PREFIX = 'gradpipe/microBatches';

/** What a complete set of micro-batches gives: the mean gradient per name, and the mean loss when every call had one. */
export interface MicroBatchMean {
  grads: tf.NamedTensorMap;
  loss: tf.Scalar | undefined;
}

/**
 * Gradient accumulation on the device (optax's `MultiSteps`): the gradients of `every` calls are summed into
 * variables, and the `every`-th call gets their mean, so that the pipeline (clipping) runs once on it and the
 * optimizer steps once. A gradient missing from some micro-batches counts as zero there. The sums are
 * `tf.Variable`s that stay from one set to the next (like an optimizer's slots); {@link MicroBatches.dispose}
 * frees them.
 */
export class MicroBatches {
  private readonly sums = new Map<string, tf.Variable>();
  /** The names summed in the set in progress: the first micro-batch of a set assigns instead of adding. */
  private readonly inSet = new Set<string>();
  /**
   * The names of sums restored by {@link MicroBatches.restore}, in their saved order, until the next micro-batch
   * binds them: a model loaded with `tf.loadLayersModel` has new variable names (`dense_Dense3/kernel` for
   * `dense_Dense1/kernel`), so sums that match no name are bound by position, as tfjs's optimizers bind their slots.
   */
  private restored: string[] | undefined;
  private lossSum: tf.Variable | undefined;
  private losses = 0;
  private count = 0;

  constructor(readonly every: number) {}

  /** Micro-batches summed in the set in progress (0 … every − 1). */
  get pending(): number {
    return this.count;
  }

  /** Adds one micro-batch; on the `every`-th, returns the means (tensors in the caller's `tidy`) and starts a new set. */
  add(fn: string, grads: tf.NamedTensorMap, loss: tf.Scalar | undefined): MicroBatchMean | undefined {
    if (this.restored) this.bindRestored(fn, grads);
    for (const [name, g] of Object.entries(grads)) {
      const sum = this.sums.get(name);
      if (this.inSet.has(name) && !tf.util.arraysEqual(sum!.shape, g.shape)) {
        throw new GradpipeError(
          fn,
          `the gradient of ${JSON.stringify(name)} has shape ${describeValue(g.shape)} in this micro-batch and ${describeValue(sum!.shape)} in the ones before`,
        );
      }
    }
    for (const [name, g] of Object.entries(grads)) this.sums.set(name, this.addTo(this.sums.get(name), this.inSet.has(name), g));
    for (const name of Object.keys(grads)) this.inSet.add(name);
    if (loss !== undefined) this.lossSum = this.addTo(this.lossSum, this.losses > 0, loss);
    this.losses += loss === undefined ? 0 : 1;
    this.count += 1;
    if (this.count < this.every) return undefined;
    const mean = {
      grads: Object.fromEntries([...this.inSet].map((name) => [name, tf.div(this.sums.get(name)!, this.every)])),
      loss: this.losses === this.every ? (tf.div(this.lossSum!, this.every) as tf.Scalar) : undefined,
    };
    this.inSet.clear();
    this.losses = 0;
    this.count = 0;
    return mean;
  }

  /** Binds restored sums to this micro-batch's gradients: by name when every name is there, else by position. */
  private bindRestored(fn: string, grads: tf.NamedTensorMap): void {
    const saved = this.restored!;
    const names = Object.keys(grads);
    this.restored = undefined;
    if (saved.every((name) => name in grads)) return;
    const shapesMatch =
      saved.length === names.length && saved.every((name, i) => tf.util.arraysEqual(this.sums.get(name)!.shape, grads[names[i]!]!.shape));
    if (!shapesMatch) {
      this.restored = saved;
      throw new GradpipeError(
        fn,
        `the restored micro-batch sums (${saved.map((n) => JSON.stringify(n)).join(', ')}) match neither the names nor, in order, the shapes of this step's gradients (${names.map((n) => JSON.stringify(n)).join(', ')})`,
      );
    }
    const bound = saved.map((name, i) => [names[i]!, this.sums.get(name)!] as const);
    for (const name of saved) this.sums.delete(name);
    this.inSet.clear();
    for (const [name, sum] of bound) {
      this.sums.get(name)?.dispose();
      this.sums.set(name, sum);
      this.inSet.add(name);
    }
  }

  /** `sum ← g` for the first micro-batch of a set, `sum ← sum + g` after; a variable is made on first use. */
  private addTo(sum: tf.Variable | undefined, adding: boolean, g: tf.Tensor): tf.Variable {
    if (adding) {
      sum!.assign(tf.add(sum!, g));
      return sum!;
    }
    if (sum !== undefined && tf.util.arraysEqual(sum.shape, g.shape) && sum.dtype === g.dtype) {
      sum.assign(g);
      return sum;
    }
    sum?.dispose();
    return tf.variable(g.clone(), false);
  }

  /**
   * The set in progress as named tensors, for the optimizer's `getWeights`: each sum, the loss sum, and the counts.
   * The count tensor is new (yours); the sums are the variables themselves.
   */
  weights(): NamedTensor[] {
    const sums = [...this.inSet].map((name) => ({ name: `${PREFIX}/sum/${name}`, tensor: this.sums.get(name)! as tf.Tensor }));
    const loss = this.losses > 0 ? [{ name: `${PREFIX}/loss`, tensor: this.lossSum! as tf.Tensor }] : [];
    return [{ name: `${PREFIX}/count`, tensor: tf.tensor1d([this.count, this.losses], 'int32') }, ...sums, ...loss];
  }

  /** Splits saved weights into this accumulator's (restored) and the optimizer's (returned). */
  async restore(fn: string, weights: NamedTensor[]): Promise<NamedTensor[]> {
    const mine = weights.filter((w) => w.name.startsWith(`${PREFIX}/`));
    const theirs = weights.filter((w) => !w.name.startsWith(`${PREFIX}/`));
    if (mine.length === 0) return theirs; // saved without accumulation in progress (or without accumulation)
    const countWeight = mine.find((w) => w.name === `${PREFIX}/count`);
    const counts = countWeight ? Array.from(await countWeight.tensor.data()) : [];
    const [count, losses] = counts;
    if (
      counts.length !== 2 ||
      !Number.isInteger(count) ||
      count! < 0 ||
      count! >= this.every ||
      !Number.isInteger(losses) ||
      losses! < 0 ||
      losses! > count!
    ) {
      throw new GradpipeError(
        fn,
        `the saved micro-batch counts must be [count in [0, ${this.every}), losses in [0, count]] for accumulate ${this.every}, got [${counts.join(', ')}]`,
      );
    }
    const loss = mine.find((w) => w.name === `${PREFIX}/loss`);
    if ((loss !== undefined) !== losses! > 0 || (loss !== undefined && loss.tensor.rank !== 0)) {
      throw new GradpipeError(
        fn,
        `the saved micro-batch loss sum must be a scalar exactly when losses were summed (${losses}), got ${loss ? `shape ${describeValue(loss.tensor.shape)}` : 'none'}`,
      );
    }
    this.inSet.clear();
    for (const w of mine) {
      if (!w.name.startsWith(`${PREFIX}/sum/`)) continue;
      const name = w.name.slice(`${PREFIX}/sum/`.length);
      this.sums.set(
        name,
        tf.tidy(() => this.addTo(this.sums.get(name), false, w.tensor)),
      );
      this.inSet.add(name);
    }
    this.restored = [...this.inSet];
    if (loss) this.lossSum = tf.tidy(() => this.addTo(this.lossSum, false, loss.tensor));
    this.count = count!;
    this.losses = losses!;
    return theirs;
  }

  /** Frees the sums. */
  dispose(): void {
    for (const sum of this.sums.values()) sum.dispose();
    this.sums.clear();
    this.inSet.clear();
    this.lossSum?.dispose();
    this.lossSum = undefined;
    this.count = 0;
    this.losses = 0;
  }
}
