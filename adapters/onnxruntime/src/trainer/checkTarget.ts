import { describeValue, GradpipeError } from '@gradpipe/core';
import * as ort from 'onnxruntime-node';
import { evaluateDim } from '../shapes/Dim.js';
import type { TargetSpec } from '../training/losses.js';

/**
 * Checks a step's target against what the loss needs — its type, its shape with the batch (and other named
 * dims) taken from the feeds, labels in [0, classes) or the ignored label. A target of another shape would
 * broadcast silently ([1, k] against [n, k] gives a loss n times too small, [n] against [n, 1] gives [n, n]), a
 * label out of range would pick garbage or fail deep inside ONNX Runtime: both are refused.
 *
 * Before the run, the check is made when the feeds tell the whole shape (and the classes); otherwise it waits
 * for `predictionDims` — the actual shape of the output the loss is computed on, read after the run — and is
 * made before the step is used, with the same message.
 */
export function checkTarget(
  fn: string,
  lossName: string,
  spec: TargetSpec | undefined,
  target: unknown,
  sizes: ReadonlyMap<string, number>,
  predictionDims?: readonly number[],
): void {
  if (!spec) {
    if (target !== undefined) throw new GradpipeError(fn, 'the model computes its own loss: give the targets in feeds, not as target');
    return;
  }
  if (!(target instanceof ort.Tensor) || target.type !== spec.type) {
    throw new GradpipeError(
      fn,
      `target must be a ${spec.type} ort.Tensor for loss '${lossName}', got ${target instanceof ort.Tensor ? `a ${target.type} tensor` : describeValue(target)}`,
    );
  }
  const labels = spec.type === 'int64';
  // Labels are [batch, d…] for logits [batch, classes, d…]; other targets have the prediction's shape.
  const expected = predictionDims
    ? labels
      ? [predictionDims[0]!, ...predictionDims.slice(2)]
      : [...predictionDims]
    : spec.dims?.map((d) => (typeof d === 'string' ? (evaluateDim(d, sizes) ?? null) : d));
  const classes = predictionDims ? predictionDims[1] : spec.classes;
  // Checked as a whole or not yet (then after the run), so that the shape is always checked first.
  if (!expected?.every((d) => d !== null) || (labels && classes === undefined)) return;
  if (target.dims.length !== expected.length || expected.some((d, i) => d !== target.dims[i])) {
    throw new GradpipeError(
      fn,
      `target must have shape [${expected.join(', ')}] for loss '${lossName}' and these feeds, got [${target.dims.join(', ')}]`,
    );
  }
  if (labels) checkLabels(fn, target.data as BigInt64Array, classes!, spec.ignoreIndex ?? -100);
}

function checkLabels(fn: string, labels: BigInt64Array, classes: number, ignoreIndex: number): void {
  const ignore = BigInt(ignoreIndex);
  const end = BigInt(classes);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v !== ignore && (v < 0n || v >= end)) {
      throw new GradpipeError(fn, `target labels must be in [0, ${classes}) or the ignoreIndex ${ignore}, got ${v} at index ${i}`);
    }
  }
}
