import * as tf from '@tensorflow/tfjs-core';
import { gpuKeep, onGpu } from './gpuKernels.js';

/**
 * Runs `apply` (an optimizer's `applyGradients`) so that every `tf.Variable` it assigns keeps its old value where
 * `skip` (a 0/1 float scalar on the device) is 1: each `v.assign(next)` becomes `v.assign(skip ? v : next)`.
 * This is how a guard's skip is decided without the host — optax's `apply_if_finite` selects between the updated
 * and the previous parameters and optimizer state the same way. Catching the assignments covers whatever the
 * optimizer keeps (weights, momenta, Adam's moments and β powers, slots it creates on its first step) without
 * knowing its fields. It costs one kernel per assigned variable, over that variable's elements (on webgl and
 * webgpu a shader of gpuKernels.ts; elsewhere `tf.where`).
 */
export function keepingWhere(skip: tf.Scalar, apply: () => void): void {
  const proto = tf.Variable.prototype;
  const assign = proto.assign;
  const select = onGpu()
    ? (v: tf.Tensor, next: tf.Tensor) => gpuKeep(v, next, skip)
    : (v: tf.Tensor, next: tf.Tensor) => tf.where(tf.greater(skip, 0), v, next);
  proto.assign = function keepOrAssign(this: tf.Variable, next: tf.Tensor): void {
    assign.call(
      this,
      next.dtype === 'float32' && this.dtype === 'float32' ? select(this, next) : tf.where(tf.greater(skip, 0), this, next),
    );
  };
  try {
    apply();
  } finally {
    proto.assign = assign;
  }
}
