// Log scales. uPlot's own log axis draws no ticks at all once the range passes about 1e17, and the norms of an
// exploding run reach 1e38. So a "log" chart plots log10 of each value on a linear scale, and labels the axis
// with 10^y: whole decades (every k-th one, so labels never crowd), with 2 and 5 (and 3, 7) added when the
// range is only a few decades.
import type uPlot from 'uplot';
import { pixelRatio } from './dom.js';
import { formatTick } from './format.js';

/** Zero, negative and non-finite values have no logarithm: they become gaps (null) in the lines. */
export function log10s(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (typeof v === 'number' && v > 0 ? Math.log10(v) : null));
}

/** 10^y; exact for whole y ('1e-7' is exact, 10 ** -7 is not). */
export function pow10(y: number): number {
  return Number.isInteger(y) ? Number(`1e${y}`) : 10 ** y;
}

/** A y range at least one decade tall, with a little room above and below so lines at the extremes stay clear. */
export function logRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min == null || max == null) return [0, 1];
  const mid = (min + max) / 2;
  const half = Math.max(max - min, 1) / 2;
  const pad = 0.04 * half * 2;
  return [mid - half - pad, mid + half + pad];
}

function logSplits(u: uPlot, _axisIdx: number, min: number, max: number): number[] {
  const heightPx = u.bbox?.height ? u.bbox.height / pixelRatio() : 200;
  const room = Math.max(2, Math.floor(heightPx / 22));
  const every = Math.max(1, Math.ceil((max - min) / room));
  const mults = (max - min) * 5 <= room ? [1, 2, 3, 5, 7] : (max - min) * 3 <= room ? [1, 2, 5] : [1];
  const splits: number[] = [];
  for (let e = Math.ceil(min / every) * every - every; e <= max; e += every) {
    for (const m of mults) {
      const y = e + Math.log10(m);
      if (y >= min - 1e-9 && y <= max + 1e-9) splits.push(y);
    }
  }
  return splits;
}

function logTicks(_u: uPlot, splits: number[]): string[] {
  return splits.map((y) => formatTick(pow10(y)));
}

/** A uPlot axis `filter` that keeps every split (uPlot would drop some). */
export function allSplits(_u: uPlot, splits: number[]): number[] {
  return splits;
}

/** A y axis for values plotted as log10: labelled in powers of ten. */
export function logAxis(label: string): uPlot.Axis {
  return { label, values: logTicks, splits: logSplits, filter: allSplits, size: 64 };
}
