/**
 * How the log keeps NaN, +Infinity and -Infinity apart. JSON has no non-finite numbers (`JSON.stringify(NaN)` is
 * `null`), so the recorder writes them as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`: the spellings that
 * JavaScript's `Number()`, Python's `float()` and jq's `tonumber` all turn back into the number. Logs written before
 * this have `null`, which still reads: "non-finite, kind unknown".
 */
export type NonFiniteText = 'NaN' | 'Infinity' | '-Infinity';

/** A number field of a log line: a finite number, a non-finite one spelled out, or `null` (older logs). */
export type LoggedNumber = number | NonFiniteText | null;

/** The number as it is written to the log. */
export function encodeNumber(value: number): number | NonFiniteText {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** True for the three strings that stand for a non-finite number. */
export function isNonFiniteText(value: unknown): value is NonFiniteText {
  return value === 'NaN' || value === 'Infinity' || value === '-Infinity';
}

/** A read value back to a number: strings for non-finite numbers become them; numbers and null stay. */
export function decodeNumber(value: number | NonFiniteText | null): number | null {
  return typeof value === 'string' ? Number(value) : value;
}

/** 'NaN', 'Infinity', '-Infinity', or 'non-finite' for an older log's null; undefined for a finite number. */
export function nonFiniteKind(value: number | null | undefined): NonFiniteText | 'non-finite' | undefined {
  if (value === null) return 'non-finite';
  if (typeof value !== 'number' || Number.isFinite(value)) return undefined;
  return encodeNumber(value) as NonFiniteText;
}

/**
 * `JSON.stringify` that keeps non-finite numbers, spelled the way the log spells them: for the page's embedded data
 * and `data.json`, where `NaN` would otherwise silently become `null`.
 */
export function stringifyKeepingNonFinite(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? encodeNumber(v) : v));
}
