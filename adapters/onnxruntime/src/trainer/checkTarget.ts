import * as ort from 'onnxruntime-node';
import { GradpipeError, describeValue } from '@gradpipe/core';
import { evaluateDim } from '../shapes/Dim.js';
import type { TargetSpec } from '../training/losses.js';

/**
 * Checks a step's target against what the loss needs — its type, its shape with the batch (and other named
 * dims) taken from the feeds, labels in [0, classes) or the ignored label — before anything runs. A target of
 * another shape would broadcast silently ([n] against [n, 1] gives [n, n]), a label out of range would pick
 * garbage: both are refused.
 */
export function checkTarget(fn: string, lossName: string, spec: TargetSpec | undefined, target: unknown, sizes: ReadonlyMap<string, number>): void {
  if (!spec) {
    if (target !== undefined) throw new GradpipeError(fn, 'the model computes its own loss: give the targets in feeds, not as target');
    return;
  }
  if (!(target instanceof ort.Tensor) || target.type !== spec.type) {
    throw new GradpipeError(fn, `target must be a ${spec.type} ort.Tensor for loss '${lossName}', got ${target instanceof ort.Tensor ? `a ${target.type} tensor` : describeValue(target)}`);
  }
  const expected = spec.dims?.map((d) => (typeof d === 'string' ? (evaluateDim(d, sizes) ?? null) : d));
  if (expected && (target.dims.length !== expected.length || expected.some((d, i) => d !== null && d !== target.dims[i]))) {
    throw new GradpipeError(fn, `target must have shape [${expected.map((d) => d ?? '?').join(', ')}] for loss '${lossName}' and these feeds, got [${target.dims.join(', ')}]`);
  }
  if (spec.type === 'int64') {
    const labels = target.data as BigInt64Array;
    const ignore = BigInt(spec.ignoreIndex ?? -100);
    const classes = spec.classes === undefined ? undefined : BigInt(spec.classes);
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      if (v !== ignore && (v < 0n || (classes !== undefined && v >= classes))) {
        throw new GradpipeError(fn, `target labels must be in [0, ${spec.classes ?? '∞'}) or the ignoreIndex ${ignore}, got ${v} at index ${i}`);
      }
    }
  }
}
