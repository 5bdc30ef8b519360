/**
 * Shared generators and float64 reference computations for the property tests of @gradpipe/core.
 *
 * Every property runs with a fixed seed, so a failure reproduces on every machine, and with small arrays,
 * so a thousand runs take well under a second.
 */
import fc from 'fast-check';

/** The seed of every property in this suite. */
export const SEED = 42;
/** Runs per promise: the issue asks for at least 1000. */
export const RUNS = 1000;

/** Asserts a property with the suite's seed and run count. */
export function prove<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns = RUNS): void {
  fc.assert(property, { seed: SEED, numRuns });
}

/** The largest finite float32, 3.4028234663852886e38. */
export const MAX_FLOAT32 = 3.4028234663852886e38;
/** The smallest positive normal float32, 2⁻¹²⁶ ≈ 1.18e-38. */
export const MIN_NORMAL_FLOAT32 = 2 ** -126;

/** Gradient values of everyday size. */
export const everydayFloat32 = fc.float({ min: -10, max: 10, noNaN: true });
/** Any finite float32: fast-check spreads them over every exponent, subnormals and ±0 included. */
export const anyFiniteFloat32 = fc.float({ noNaN: true, noDefaultInfinity: true });
/**
 * A float32 of the form ±m·10^e with e in [-38, 38]: the magnitudes of the issue (1e-38 … 3.4e38), so that
 * tiny and huge values meet in one step.
 */
export const extremeFloat32 = fc
  .tuple(fc.double({ min: 1, max: 9.99, noNaN: true }), fc.integer({ min: -38, max: 38 }), fc.boolean())
  .map(([m, e, negative]) => {
    const v = Math.min(Math.fround(m * 10 ** e), MAX_FLOAT32);
    return negative ? -v : v;
  });
/** A finite float32 of any kind, the three families mixed. */
export const finiteFloat32 = fc.oneof(everydayFloat32, anyFiniteFloat32, extremeFloat32);

/** A small Float32Array of finite values (possibly empty). */
export const finiteTensor = fc.array(finiteFloat32, { minLength: 0, maxLength: 6 }).map((a) => Float32Array.from(a));

/** Named finite gradients: one to four tensors `t0`, `t1`, … */
export const finiteGrads = fc
  .array(finiteTensor, { minLength: 1, maxLength: 4 })
  .map((tensors) => Object.fromEntries(tensors.map((t, i) => [`t${i}`, t])) as Record<string, Float32Array>);

/** Named gradients of everyday size only (for sequences of steps where the history matters). */
export const everydayGrads = fc
  .array(fc.array(everydayFloat32, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 })
  .map((tensors) => Object.fromEntries(tensors.map((t, i) => [`t${i}`, Float32Array.from(t)])) as Record<string, Float32Array>);

/**
 * A clipping bound: anything from 1e-30 to 1e30, plus the usual 0.5, 1 and 5. (Bounds below the float32 normal
 * range are covered by their own property.)
 */
export const maxNorm = fc.oneof(fc.double({ min: 1e-30, max: 1e30, noNaN: true }), fc.constantFrom(0.5, 1, 5));

/** A norm type other than 1, 2, 3 and Infinity: any real p in (1, 12]. */
export const otherP = fc.double({ min: 1.0001, max: 12, noNaN: true });

/** A deep copy of named gradients, to compare against after a step. */
export function copyGrads(grads: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Float32Array.from(v)]));
}

/** True when two Float32Arrays hold the same bits (so +0 ≠ -0 and NaN payloads count). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** True when two sets of named gradients have the same keys and the same bits. */
export function sameGradBits(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] !== undefined && sameBits(a[k]!, b[k]!));
}

/**
 * The p-norm of all values together, in float64, written independently of gradpipe: divide by the largest
 * magnitude first so no power overflows or underflows. Exact enough (relative error ~1e-15) to judge a bound
 * that gradpipe keeps with a 2⁻²³ margin.
 */
export function norm64(tensors: readonly ArrayLike<number>[], p: number): number {
  let m = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) m = Math.max(m, Math.abs(t[i]!));
  if (p === Infinity || m === 0) return m;
  let sum = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) sum += (Math.abs(t[i]!) / m) ** p;
  return m * sum ** (1 / p);
}

/** True when every value is finite. */
export function allFinite(grads: Record<string, Float32Array>): boolean {
  return Object.values(grads).every((t) => t.every((v) => Number.isFinite(v)));
}
