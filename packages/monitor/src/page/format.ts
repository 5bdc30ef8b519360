// How the page writes numbers: figures with the formatter the CLI uses too, axis labels shorter.
import { formatNumber } from '../format/formatNumber.js';

/**
 * Every figure on the page: 6 significant digits, exponent form (3.38352e37) when very large or small; `—` for
 * none, and `non-finite` for an older log's null (a non-finite number whose kind is not known).
 */
export function formatValue(v: number | null | undefined): string {
  if (v === undefined) return '—';
  if (v === null) return 'non-finite';
  if (v === -Infinity) return '−Infinity';
  return formatNumber(v);
}

/** Axis labels: plain numbers in the usual range, 1e-5 style outside it (uPlot would round tiny ones to 0). */
export function formatTick(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** A uPlot axis's `values`: the labels of its splits. */
export function formatTicks(_u: unknown, splits: number[]): string[] {
  return splits.map(formatTick);
}
