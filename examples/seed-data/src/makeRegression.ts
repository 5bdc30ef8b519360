import { describeValue, GradpipeError } from '@gradpipe/core';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { permutation } from './permutation.js';
import { standardNormal } from './standardNormal.js';

/** Options of {@link makeRegression}: scikit-learn's `make_regression` parameters; defaults are the seed experiment's. */
export interface MakeRegressionOptions {
  /** Rows. Default 1000. */
  samples?: number;
  /** Columns. Default 20. */
  features?: number;
  /** How many features the target depends on. Default 10. */
  informative?: number;
  /** Standard deviation of the Gaussian noise added to the target. Default 0.1. */
  noise?: number;
  /** Seed (an integer) of the generator: the same seed gives the same data on every machine. Default 1. */
  seed?: number;
}

/** A regression data set, row-major. */
export interface RegressionData {
  /** Inputs, `samples × features`. */
  x: Float32Array;
  /** Targets, one per sample. */
  y: Float32Array;
  /** The true coefficient of each (shuffled) column: 100·U(0, 1) for the informative ones, 0 for the others. */
  coef: Float64Array;
  samples: number;
  features: number;
}

/**
 * Seeded data with scikit-learn's `make_regression` definition, drawn in the same order: X ~ N(0, 1);
 * coefficients 100·U(0, 1) for the first `informative` features, 0 for the others; y = X·coef + N(0, noise²);
 * then the samples are shuffled, then the features (so the informative ones are not the first columns).
 * The generator is pure-rand's xoroshiro128+ (normals by Box–Muller), so the numbers differ from NumPy's.
 *
 * @example
 * ```ts
 * const { x, y } = makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed: 1 });
 * x.length; // 20000
 * y.length; // 1000
 * ```
 */
export function makeRegression(options: MakeRegressionOptions = {}): RegressionData {
  const { samples = 1000, features = 20, informative = 10, noise = 0.1, seed = 1 } = options;
  check('samples', samples, Number.isInteger(samples) && samples >= 1, 'a positive integer');
  check('features', features, Number.isInteger(features) && features >= 1, 'a positive integer');
  check(
    'informative',
    informative,
    Number.isInteger(informative) && informative >= 0 && informative <= features,
    `an integer in [0, features = ${features}]`,
  );
  check('noise', noise, Number.isFinite(noise) && noise >= 0, 'a finite number ≥ 0');
  check('seed', seed, Number.isInteger(seed), 'an integer');

  const rng = xoroshiro128plus(seed);
  const x = Float64Array.from({ length: samples * features }, () => standardNormal(rng));
  const coef = Float64Array.from({ length: features }, (_, j) => (j < informative ? 100 * uniformFloat64(rng) : 0));
  const y = Float64Array.from({ length: samples }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < informative; j++) sum += x[i * features + j]! * coef[j]!;
    return sum;
  });
  if (noise > 0) y.forEach((v, i) => (y[i] = v + noise * standardNormal(rng)));

  const rows = permutation(samples, rng);
  const columns = permutation(features, rng);
  const xs = new Float32Array(samples * features);
  const ys = new Float32Array(samples);
  rows.forEach((row, i) => {
    ys[i] = y[row]!;
    columns.forEach((column, j) => (xs[i * features + j] = x[row * features + column]!));
  });
  return { x: xs, y: ys, coef: Float64Array.from(columns, (column) => coef[column]!), samples, features };
}

function check(name: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) throw new GradpipeError('makeRegression', `${name} must be ${expected}, got ${describeValue(value)}`);
}
