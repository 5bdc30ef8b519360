import {
  type AnyGradientTransform,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  type FloatArray,
  GradientPipeline,
  nanGuard,
  type TensorOps,
  typedArrayOps,
} from '@gradpipe/core';
import { COPY_BASELINE, GradientSet } from './GradientSet.js';
import { jsKernelOps } from './jsKernelOps.js';
import { compare } from './measure.js';
import { clipWithHypot, clipWithPow, clipWithReduce } from './naiveClipping.js';
import type { Row } from './Row.js';

/** Sizes and repetitions of one typed-array group. */
export interface TypedArrayBench {
  /** Group label in the table. */
  group: string;
  tensors: number;
  size: number;
  reps: number;
  /** Repetitions of the (slow) naive implementations; 0 leaves them out. */
  naiveReps: number;
  /** Targets for the pipeline's clipByGlobalNorm, when this group has them. */
  targets?: { noClip: number; clips: number };
}

/**
 * Typed-array rows: the pipeline (`pipe.step`) with clipByGlobalNorm when it does not clip and when it clips,
 * with nanGuard in front, clipByNorm, clipByValue, a bare read pass, and naive hand-written clipping — every one
 * as a ratio to copying the same bytes.
 */
export function typedArrayRows(bench: TypedArrayBench): Row[] {
  const set = new GradientSet(bench.tensors, bench.size);
  const rows: Row[] = [];
  const add = (name: string, candidate: () => unknown, options: { target?: number | undefined; reps?: number } = {}) => {
    const result = compare({ baseline: set.copy, candidate, prepare: set.restore, reps: options.reps ?? bench.reps });
    rows.push({
      group: bench.group,
      name,
      baseline: COPY_BASELINE,
      ...result,
      ...(options.target === undefined ? {} : { target: options.target }),
    });
  };
  /** A pipeline step that must (or must not) clip: a benchmark that measured the wrong case would be worthless. */
  const stepOf = (transforms: AnyGradientTransform[], clips: boolean, ops: TensorOps<FloatArray, number> = typedArrayOps) => {
    const pipe = new GradientPipeline(transforms);
    return () => {
      const { stats } = pipe.stepWith(ops, set.grads);
      if (stats.clipped !== clips) throw new Error(`benchmark setup: expected clipped=${clips}, got ${stats.clipped}`);
    };
  };
  const norm = Math.sqrt(set.floats / 3);

  add('pipeline clipByGlobalNorm, does not clip', stepOf([clipByGlobalNorm({ maxNorm: norm * 10 })], false), {
    target: bench.targets?.noClip,
  });
  add('pipeline clipByGlobalNorm, clips', stepOf([clipByGlobalNorm({ maxNorm: 1 })], true), { target: bench.targets?.clips });
  add('same, JS kernels only: does not clip', stepOf([clipByGlobalNorm({ maxNorm: norm * 10 })], false, jsKernelOps));
  add('same, JS kernels only: clips', stepOf([clipByGlobalNorm({ maxNorm: 1 })], true, jsKernelOps));
  add('pipeline nanGuard + clipByGlobalNorm, does not clip', stepOf([nanGuard(), clipByGlobalNorm({ maxNorm: norm * 10 })], false));
  add('pipeline nanGuard + clipByGlobalNorm, clips', stepOf([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })], true));
  add('pipeline clipByNorm, clips every tensor', stepOf([clipByNorm({ maxNorm: 1 })], true));
  add('pipeline clipByValue ±0.5, clamps half the values', stepOf([clipByValue(0.5)], true));
  add('pipeline clipByValue ±2, changes nothing', stepOf([clipByValue(2)], false));
  for (const [label, ops] of [
    ['read pass alone: L2 norm of every tensor', typedArrayOps],
    ['same, JS kernels only: read pass', jsKernelOps],
  ] as const) {
    add(label, () => {
      let s = 0;
      for (const g of Object.values(set.grads)) s += ops.norm(g, 2);
      return s;
    });
  }
  if (bench.naiveReps > 0) {
    add('naive: Math.hypot fold, then forEach scale', () => clipWithHypot(set.grads, 1), { reps: bench.naiveReps });
    add('naive: reduce (one accumulator), then forEach scale', () => clipWithReduce(set.grads, 1), { reps: bench.naiveReps });
    add('naive: for loop of Math.pow(x, 2), then scale', () => clipWithPow(set.grads, 1), { reps: bench.naiveReps });
  }
  return rows;
}
