/** Options of {@link makeRegression}: scikit-learn's `make_regression` parameters used by the seed experiment. */
export interface MakeRegressionOptions {
  samples?: number;
  features?: number;
  informative?: number;
  noise?: number;
  seed?: number;
}

/** A regression data set, row-major. */
export interface RegressionData {
  x: Float32Array;
  y: Float32Array;
  samples: number;
  features: number;
}

/**
 * A seeded data set with scikit-learn's `make_regression` definition: X ~ N(0, 1); the first `informative`
 * features get coefficients 100·U(0, 1), the others 0; y = X·coef + N(0, noise²); then samples and features are
 * shuffled. Same definition, our own generator (mulberry32 + Box–Muller), so the numbers differ from sklearn's.
 *
 * @example
 * ```ts
 * const { x, y } = makeRegression({ samples: 1000, features: 20, informative: 10, noise: 0.1, seed: 1 });
 * ```
 */
export function makeRegression(options: MakeRegressionOptions = {}): RegressionData {
  const { samples = 1000, features = 20, informative = 10, noise = 0.1, seed = 1 } = options;
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = Float64Array.from({ length: samples * features }, normal);
  const coef = Float64Array.from({ length: features }, (_, j) => (j < informative ? 100 * rand() : 0));
  const y = Float64Array.from({ length: samples }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < features; j++) sum += x[i * features + j]! * coef[j]!;
    return sum + noise * normal();
  });
  // Shuffle the features (so the informative ones are not the first) and the samples, as sklearn does.
  const columns = permutation(features, rand);
  const rows = permutation(samples, rand);
  const xs = new Float32Array(samples * features);
  const ys = new Float32Array(samples);
  rows.forEach((src, i) => {
    ys[i] = y[src]!;
    columns.forEach((c, j) => (xs[i * features + j] = x[src * features + c]!));
  });
  return { x: xs, y: ys, samples, features };
}

/** A seeded uniform [0, 1) generator (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Fisher–Yates permutation of 0…n−1. */
export function permutation(n: number, rand: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
