import { describeValue, GradpipeError } from '@gradpipe/core';
import type * as tf from '@tensorflow/tfjs-core';

/** The fields tfjs's optimizers keep their learning rate in (protected in tfjs's types, public at run time). */
interface WithLearningRate {
  learningRate?: unknown;
  /** SGD and momentum keep `-learningRate` as a tensor too, and update both through this method. */
  setLearningRate?: (lr: number) => void;
}

/**
 * The learning rate of a tfjs optimizer, or undefined for one that keeps none as a number. Every optimizer of
 * `tf.train` (sgd, momentum, adam, adamax, rmsprop, adagrad, adadelta) has one.
 */
export function learningRateOf(optimizer: tf.Optimizer): number | undefined {
  const lr = (optimizer as unknown as WithLearningRate).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}

/**
 * Sets the learning rate of a tfjs optimizer for its next update: through `setLearningRate` where tfjs has one
 * (sgd, momentum: their step reads a tensor made from it), else the `learningRate` field every other `tf.train`
 * optimizer reads in each `applyGradients`. 0 is allowed, as in PyTorch (warm-up starts there).
 */
export function setLearningRate(fn: string, optimizer: tf.Optimizer, lr: unknown): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new GradpipeError(fn, `the learning rate must be a finite number >= 0, got ${describeValue(lr)}`);
  }
  const target = optimizer as unknown as WithLearningRate;
  const current = learningRateOf(optimizer);
  if (current === undefined) {
    throw new GradpipeError(
      fn,
      `${optimizer.getClassName()} keeps no numeric learningRate, so its learning rate cannot be set (tf.train's optimizers all can)`,
    );
  }
  if (current === lr) return; // sgd's setLearningRate makes a new tensor: not every step for nothing
  if (typeof target.setLearningRate === 'function') target.setLearningRate(lr);
  else target.learningRate = lr;
}
