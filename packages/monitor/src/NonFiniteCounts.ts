/** How many values were NaN, +Infinity, -Infinity, or non-finite of an unknown kind (an older log's `null`). */
export interface NonFiniteCounts {
  /** NaN values. */
  nan: number;
  /** +Infinity values. */
  infinity: number;
  /** -Infinity values. */
  negInfinity: number;
  /** `null` in a log written before NaN and ±Infinity were kept apart: non-finite, which one is not known. */
  unknown: number;
}

/** All zero. */
export function emptyCounts(): NonFiniteCounts {
  return { nan: 0, infinity: 0, negInfinity: 0, unknown: 0 };
}

/** Counts `v` in `counts` when it is non-finite (or null); returns true when it was. */
export function countNonFinite(counts: NonFiniteCounts, v: number | null | undefined): boolean {
  if (v === undefined) return false;
  if (v === null) counts.unknown++;
  else if (Number.isNaN(v)) counts.nan++;
  else if (v === Infinity) counts.infinity++;
  else if (v === -Infinity) counts.negInfinity++;
  else return false;
  return true;
}

/** The total of all four counts. */
export function totalNonFinite(c: NonFiniteCounts): number {
  return c.nan + c.infinity + c.negInfinity + c.unknown;
}

/** Words for the counts, e.g. `'2 NaN, 1 +Infinity'`; empty when all are zero. */
export function describeCounts(c: NonFiniteCounts): string {
  const parts: string[] = [];
  if (c.nan > 0) parts.push(`${c.nan} NaN`);
  if (c.infinity > 0) parts.push(`${c.infinity} +Infinity`);
  if (c.negInfinity > 0) parts.push(`${c.negInfinity} -Infinity`);
  if (c.unknown > 0) parts.push(`${c.unknown} NaN or ±Infinity (older log)`);
  return parts.join(', ');
}
