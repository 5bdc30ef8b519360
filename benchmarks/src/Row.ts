import type { Comparison } from './measure.js';

/** One line of the results table: a ratio against a baseline measured in the same run, with its target. */
export interface Row extends Partial<Comparison> {
  /** Which part of the benchmark: `'typed-array 25M'`, `'tfjs cpu'`, … */
  group: string;
  /** What was measured, e.g. `'pipeline clipByGlobalNorm, clips'`. */
  name: string;
  /** What the ratio divides by, e.g. `'TypedArray.prototype.set of the same bytes'`. */
  baseline: string;
  /** The largest ratio that meets the goal, when there is one. */
  target?: number;
  /** Kernels one step launches (tfjs rows: `tf.profile`), baseline and candidate. */
  kernels?: { baseline: number; candidate: number };
  /** Why there is no ratio (not measured), or anything else to know about the row. */
  note?: string;
}

/** 'met' / 'MISSED' / '' (no target) / 'not measured'. */
export function verdict(row: Row): string {
  if (row.ratio === undefined) return 'not measured';
  if (row.target === undefined) return '';
  return row.ratio <= row.target ? 'met' : 'MISSED';
}
