/**
 * A figure as gradpipe prints it, on the report page, in the CLI and in the layer flags' reasons alike: `digits`
 * significant digits (6 unless told), in exponent form (`3.38352e37`, `1.5e-7`) from 1e6 up and below 1e-3; `NaN`,
 * `Infinity` and `-Infinity` as JavaScript spells them. Counts are not figures: print those with `String(n)`, so a
 * million steps stay `1000000`, not `1e6`.
 *
 * This module has no imports and touches neither Node nor the DOM: the report page's script bundles it too.
 */
export function formatNumber(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) {
    const [mantissa, exponent] = v.toExponential(digits - 1).split('e');
    return `${Number(mantissa)}e${Number(exponent)}`;
  }
  return String(Number(v.toPrecision(digits)));
}
