import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `apply` (an optimizer's `applyGradients`) so that every `tf.Variable` it assigns keeps its old value where
 * `keep` (a bool scalar on the device) is true: each `v.assign(next)` becomes `v.assign(where(keep, v, next))`.
 * This is how a guard's skip is decided without the host — optax's `apply_if_finite` selects between the updated
 * and the previous parameters and optimizer state the same way. Catching the assignments covers whatever the
 * optimizer keeps (weights, momenta, Adam's moments and β powers, slots it creates on its first step) without
 * knowing its fields. It costs one `where` per assigned variable, over that variable's elements.
 */
export function keepingWhere(keep: tf.Tensor, apply: () => void): void {
  const proto = tf.Variable.prototype;
  const assign = proto.assign;
  proto.assign = function keepOrAssign(this: tf.Variable, next: tf.Tensor): void {
    assign.call(this, tf.where(keep, this, next));
  };
  try {
    apply();
  } finally {
    proto.assign = assign;
  }
}
