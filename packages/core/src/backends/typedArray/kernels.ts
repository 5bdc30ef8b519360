/**
 * The hot loops of the typed-array backend. Gradients can be hundreds of MB, so each kernel makes exactly one
 * pass, keeps four independent float64 accumulators (the CPU can overlap their additions) and allocates nothing.
 * Products of two float32 values are exact in float64, and a float64 sum of up to 2^31 squares of finite float32
 * values cannot overflow (3.4e38² · 2^31 ≈ 2.5e86), so L1 and L2 need no rescaling pass.
 */

/** Σ x², in float64. Non-finite iff `x` has a non-finite entry. */
export function sumOfSquares(x: Float32Array): number {
  const n = x.length;
  const end4 = n - (n & 3);
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    const v0 = x[i]!;
    const v1 = x[i + 1]!;
    const v2 = x[i + 2]!;
    const v3 = x[i + 3]!;
    a0 += v0 * v0;
    a1 += v1 * v1;
    a2 += v2 * v2;
    a3 += v3 * v3;
  }
  for (; i < n; i++) a0 += x[i]! * x[i]!;
  return a0 + a1 + (a2 + a3);
}

/**
 * Σ x² the fast way, bit for bit what the SIMD `blockSumOfSquares` kernel of kernels.wat computes: blocks of 32
 * values as eight vectors of four lanes; in each lane the eight squares are formed and summed pairwise in float32
 * (`Math.fround` of a float64 sum or product of float32 values is the float32 operation exactly), and the four
 * lane sums go into float64 accumulators a0…a3; the tail (fewer than 32 values) is added into a0 exactly.
 * A block sum is within 4·2⁻²⁴ of exact. Not to be trusted when a square overflows float32 or underflows: see
 * {@link trustedBlockSum}.
 */
export function blockSumOfSquares(x: Float32Array): number {
  const n = x.length;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 += laneSum(x, i);
    a1 += laneSum(x, i + 1);
    a2 += laneSum(x, i + 2);
    a3 += laneSum(x, i + 3);
  }
  for (; i < n; i++) a0 += x[i]! * x[i]!;
  return a0 + a1 + (a2 + a3);
}

/** One lane of a block: x[at], x[at+4], …, x[at+28] squared and summed pairwise, all in float32. */
function laneSum(x: Float32Array, at: number): number {
  const f = Math.fround;
  const s0 = f(x[at]! * x[at]!);
  const s1 = f(x[at + 4]! * x[at + 4]!);
  const s2 = f(x[at + 8]! * x[at + 8]!);
  const s3 = f(x[at + 12]! * x[at + 12]!);
  const s4 = f(x[at + 16]! * x[at + 16]!);
  const s5 = f(x[at + 20]! * x[at + 20]!);
  const s6 = f(x[at + 24]! * x[at + 24]!);
  const s7 = f(x[at + 28]! * x[at + 28]!);
  return f(f(f(s0 + s1) + f(s2 + s3)) + f(f(s4 + s5) + f(s6 + s7)));
}

/**
 * Whether a {@link blockSumOfSquares} result `sum` over `n` values is as good as the exact sum for norms: finite
 * (no square or block overflowed float32) and at least n·2⁻¹¹⁸, so that the float32 subnormals it may have
 * rounded (at most 2⁻¹⁴⁹ per operation) cost less than 2⁻³¹ relatively. Otherwise the exact float64 pass
 * ({@link sumOfSquares}) is taken: for non-finite input, vast values, and tiny ones.
 */
export function trustedBlockSum(sum: number, n: number): boolean {
  return sum < Infinity && sum >= n * 2 ** -118;
}

/** Σ |x|, in float64. */
export function sumOfAbs(x: Float32Array): number {
  const n = x.length;
  const end4 = n - (n & 3);
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    a0 += Math.abs(x[i]!);
    a1 += Math.abs(x[i + 1]!);
    a2 += Math.abs(x[i + 2]!);
    a3 += Math.abs(x[i + 3]!);
  }
  for (; i < n; i++) a0 += Math.abs(x[i]!);
  return a0 + a1 + (a2 + a3);
}

/**
 * max |x|. NaN when `x` holds a NaN (a plain max would skip it, because every comparison with NaN is false):
 * the running sum Σx is finite for finite float32 input, so it flags any non-finite entry for free.
 */
export function maxAbs(x: Float32Array): number {
  const n = x.length;
  let m0 = 0;
  let m1 = 0;
  let sum = 0;
  let i = 0;
  const end2 = n - (n & 1);
  for (; i < end2; i += 2) {
    const v0 = x[i]!;
    const v1 = x[i + 1]!;
    sum += v0 + v1;
    const a0 = Math.abs(v0);
    const a1 = Math.abs(v1);
    if (a0 > m0) m0 = a0;
    if (a1 > m1) m1 = a1;
  }
  if (i < n) {
    const v = x[i]!;
    sum += v;
    if (Math.abs(v) > m0) m0 = Math.abs(v);
  }
  const m = Math.max(m0, m1);
  if (Number.isFinite(sum)) return m;
  return Number.isNaN(sum) || Number.isNaN(m) ? NaN : m;
}

/**
 * Σ (|x| / scale)^p for a general `p`, in float64. With `scale = max|x|` every term is ≤ 1, so the sum cannot
 * overflow for any p, and the terms that matter cannot underflow.
 */
export function sumOfScaledPowers(x: Float32Array, p: number, scale: number): number {
  const inv = 1 / scale;
  const n = x.length;
  let a0 = 0;
  let a1 = 0;
  let i = 0;
  const end2 = n - (n & 1);
  for (; i < end2; i += 2) {
    a0 += (Math.abs(x[i]!) * inv) ** p;
    a1 += (Math.abs(x[i + 1]!) * inv) ** p;
  }
  if (i < n) a0 += (Math.abs(x[i]!) * inv) ** p;
  return a0 + a1;
}

/**
 * The float32 factor the scale kernels multiply by: the largest float32 not above `factor`, so that scaling never
 * enlarges a value beyond what the exact factor would (the clip bound holds). `undefined` when `factor` is not a
 * normal float32 comfortably above underflow (below 2⁻¹⁰⁰ or beyond float32's range): the product is then
 * taken in float64, where such a factor still scales large gradients to representable values.
 */
export function float32Factor(factor: number): number | undefined {
  if (!(factor >= 2 ** -100 && factor <= 3.4028234663852886e38)) return undefined;
  const f = Math.fround(factor);
  return f > factor ? nextFloat32Down(f) : f;
}

const bits = new Float32Array(1);
const asInt = new Int32Array(bits.buffer);

/** The float32 just below the positive normal float32 `f`. */
function nextFloat32Down(f: number): number {
  bits[0] = f;
  asInt[0]! -= 1;
  return bits[0]!;
}

/**
 * x ← x · c in place, rounded to float32 once, with c = {@link float32Factor}(factor): the product of two float32
 * values is exact in float64, so this is the float32 multiplication the SIMD `scale` kernel does, bit for bit.
 */
export function scaleInPlace(x: Float32Array, factor: number): void {
  const c = float32Factor(factor) ?? factor;
  const n = x.length;
  const end4 = n - (n & 3);
  let i = 0;
  for (; i < end4; i += 4) {
    x[i] = x[i]! * c;
    x[i + 1] = x[i + 1]! * c;
    x[i + 2] = x[i + 2]! * c;
    x[i + 3] = x[i + 3]! * c;
  }
  for (; i < n; i++) x[i] = x[i]! * c;
}

/**
 * {@link scaleInPlace} (the same stored values), returning Σ y² of the stored float32 results in the same pass, so
 * the norm after clipping is measured without an extra read of the data.
 */
export function scaleInPlaceSumOfSquares(x: Float32Array, factor: number): number {
  const c = float32Factor(factor) ?? factor;
  const n = x.length;
  const end4 = n - (n & 3);
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    const y0 = Math.fround(x[i]! * c);
    const y1 = Math.fround(x[i + 1]! * c);
    const y2 = Math.fround(x[i + 2]! * c);
    const y3 = Math.fround(x[i + 3]! * c);
    x[i] = y0;
    x[i + 1] = y1;
    x[i + 2] = y2;
    x[i + 3] = y3;
    a0 += y0 * y0;
    a1 += y1 * y1;
    a2 += y2 * y2;
    a3 += y3 * y3;
  }
  for (; i < n; i++) {
    const y = Math.fround(x[i]! * c);
    x[i] = y;
    a0 += y * y;
  }
  return a0 + a1 + (a2 + a3);
}

/** x ← min(max(x, lo), hi) in place; NaN stays NaN. Returns how many entries changed. */
export function clampInPlace(x: Float32Array, lo: number, hi: number): number {
  let changed = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v > hi) {
      x[i] = hi;
      changed++;
    } else if (v < lo) {
      x[i] = lo;
      changed++;
    }
  }
  return changed;
}

/** Non-finite entries ← 0, in place. Returns how many were replaced. */
export function zeroNonFiniteInPlace(x: Float32Array): number {
  let replaced = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    // v - v is 0 for finite v and NaN for ±Inf and NaN: one subtraction instead of Number.isFinite's call.
    const v = x[i]!;
    if (v - v !== 0) {
      x[i] = 0;
      replaced++;
    }
  }
  return replaced;
}

/**
 * Runs every kernel once on a few values, so that V8 has seen each loop — the unrolled body and the tail — before
 * it optimises them. Without it the first optimised code of a kernel, compiled in the middle of a long first
 * call (on-stack replacement), has no feedback for the tail loop and is thrown away at the end of every call for
 * a while: the first dozen steps on large gradients ran three to five times slower.
 */
function warmUp(): void {
  const x = Float32Array.of(1, -2, 3, -4, 5, -6, 7);
  // V8 allocates a function's feedback only after several calls: 16 rounds get past that.
  for (let round = 0; round < 16; round++) {
    sumOfSquares(x);
    sumOfAbs(x);
    maxAbs(x);
    sumOfScaledPowers(x, 3, 7);
    scaleInPlace(x, 1);
    scaleInPlaceSumOfSquares(x, 1);
    clampInPlace(x, -10, 10);
    zeroNonFiniteInPlace(x);
  }
}
warmUp();
