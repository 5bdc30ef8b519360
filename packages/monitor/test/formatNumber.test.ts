import { describe, expect, test } from 'vitest';
import { formatNumber } from '../src/format/formatNumber.js';
import { formatValue } from '../src/page/format.js';

// The one formatter of figures: the CLI's summary, the layer flags' reasons and the report page all print with it.
describe('formatNumber', () => {
  test('6 significant digits; exponent form from 1e6 up and below 1e-3', () => {
    expect([0, 1, -2.5, 0.001, 123456.7, 999999.4].map((v) => formatNumber(v))).toEqual(['0', '1', '-2.5', '0.001', '123457', '999999']);
    expect([1e6, 3.3835217e37, 0.000999, -1.5e-7, 5e-324].map((v) => formatNumber(v))).toEqual([
      '1e6',
      '3.38352e37',
      '9.99e-4',
      '-1.5e-7',
      '4.94066e-324',
    ]);
  });

  test('other precisions, and non-finite numbers as JavaScript spells them', () => {
    expect([Math.PI, 1234567, 1e-8].map((v) => formatNumber(v, 3))).toEqual(['3.14', '1.23e6', '1e-8']);
    expect([Number.NaN, Infinity, -Infinity].map((v) => formatNumber(v))).toEqual(['NaN', 'Infinity', '-Infinity']);
  });

  test('on the page: a dash for none, "non-finite" for an older log\'s null, a true minus for −Infinity', () => {
    expect([undefined, null, -Infinity, Infinity, Number.NaN, 0.5].map(formatValue)).toEqual([
      '—',
      'non-finite',
      '−Infinity',
      'Infinity',
      'NaN',
      '0.5',
    ]);
  });
});
