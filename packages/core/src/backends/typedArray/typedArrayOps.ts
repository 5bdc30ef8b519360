import { describeValue } from '../../errors/GradpipeError.js';
import { normOf } from '../../norms/normOf.js';
import type { TensorOps, UnitLayout } from '../TensorOps.js';
import { stagedClampInPlace, stagedScaleInPlace, stagedScaleInPlaceSumOfSquares } from '../wasmSimd/stagedKernels.js';
import { zeroNonFiniteInPlace } from './kernels.js';

/**
 * Gradients as the typed-array backend holds them: `Float32Array` for tensors, `Float64Array` for the small
 * vectors it derives (unit norms), which must not overflow where float32 would.
 */
export type FloatArray = Float32Array | Float64Array;

/** Rows and columns of a unit layout: `'first'` → unit u is row u; `'last'` → unit u is column u. */
function unitShape(length: number, layout: UnitLayout): { units: number; per: number } {
  return { units: layout.units, per: length / layout.units };
}

function unitNormsOf(x: FloatArray, layout: UnitLayout): Float64Array {
  const { units, per } = unitShape(x.length, layout);
  const sums = new Float64Array(units);
  if (layout.axis === 'first') {
    for (let u = 0; u < units; u++) {
      let s = 0;
      const base = u * per;
      for (let j = 0; j < per; j++) {
        const v = x[base + j]!;
        s += v * v;
      }
      sums[u] = s;
    }
  } else {
    for (let r = 0; r < per; r++) {
      const base = r * units;
      for (let u = 0; u < units; u++) {
        const v = x[base + u]!;
        sums[u] = sums[u]! + v * v;
      }
    }
  }
  for (let u = 0; u < units; u++) sums[u] = Math.sqrt(sums[u]!);
  return sums;
}

/**
 * The typed-array backend of {@link TensorOps}: tensors are `Float32Array`s, scalars are numbers, norms are
 * accumulated in float64, and changes are made in place. This is what {@link GradientPipeline.step} uses.
 *
 * @example
 * ```ts
 * import { typedArrayOps } from '@gradpipe/core';
 * typedArrayOps.norm(new Float32Array([1, 2, 2]), 2); // 3
 * ```
 */
export const typedArrayOps: TensorOps<FloatArray, number> = {
  name: 'typed-array',
  eager: true,
  unitAxis: 'first',
  // Storing x·c to float32 rounds by at most 2^-24 relatively, and the L2 norm's float32 block sums are within
  // 4·2^-24 of exact (so the norm within 2·2^-24, and float64's errors are below 2^-29); shrinking c by
  // 2^-22 = 4·2^-24 covers the three with a 2^-24 to spare. (The scale kernels round c itself down to a float32,
  // which only lowers the result.)
  boundSafety: 1 - 2 ** -22,

  invalidReason(t) {
    if (!(t instanceof Float32Array)) return `must be a Float32Array, got ${describeValue(t)}`;
    if (isDetached(t)) return 'is a view of a detached ArrayBuffer (transferred to a worker or freed): it holds no data';
    return undefined;
  },
  size: (t) => t.length,

  norm: (t, p) => normOf(t as Float32Array, p),
  unitNorms: (t, layout) => unitNormsOf(t, layout),

  scale(t, factor) {
    if (factor !== 1) stagedScaleInPlace(t as Float32Array, factor);
    return t;
  },
  scaleWithNorm(t, factor) {
    if (factor === 1) return [t, normOf(t as Float32Array, 2)];
    return [t, Math.sqrt(stagedScaleInPlaceSumOfSquares(t as Float32Array, factor))];
  },
  clamp(t, min, max) {
    return [t, stagedClampInPlace(t as Float32Array, min, max)];
  },
  zeroNonFinite(t, isFinite) {
    if (isFinite !== 1) zeroNonFiniteInPlace(t as Float32Array);
    return t;
  },
  clipUnits(t, layout, norms, limits) {
    const { units, per } = unitShape(t.length, layout);
    const factors = new Float64Array(units);
    let any = false;
    for (let u = 0; u < units; u++) {
      const n = norms[u]!;
      const l = limits[u]!;
      const clip = Number.isFinite(n) && n > l;
      // Lowered by 2·√per·2⁻¹⁵⁰ as in clipFactor, so rounding float32 subnormals up cannot lift the unit above l.
      factors[u] = clip ? (Math.max(l - 2 * Math.sqrt(per) * 2 ** -150, 0) / n) * typedArrayOps.boundSafety : 1;
      any ||= clip;
    }
    if (!any) return t;
    if (layout.axis === 'first') {
      for (let u = 0; u < units; u++) {
        const f = factors[u]!;
        if (f === 1) continue;
        const base = u * per;
        for (let j = 0; j < per; j++) t[base + j] = t[base + j]! * f;
      }
    } else {
      for (let r = 0; r < per; r++) {
        const base = r * units;
        for (let u = 0; u < units; u++) t[base + u] = t[base + u]! * factors[u]!;
      }
    }
    return t;
  },
  floorTimes(v, floor, factor) {
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Math.max(v[i]!, floor) * factor;
    return out;
  },
  anyGreater(norms, limits) {
    for (let u = 0; u < norms.length; u++) {
      const n = norms[u]!;
      if (Number.isFinite(n) && n > limits[u]!) return 1;
    }
    return 0;
  },

  scalar: (value) => value,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  min: (a, b) => Math.min(a, b),
  max: (a, b) => Math.max(a, b),
  pow: (a, e) => a ** e,
  greater: (a, b) => (a > b ? 1 : 0),
  isFinite: (a) => (Number.isFinite(a) ? 1 : 0),
  select: (cond, a, b) => (cond !== 0 ? a : b),
  read: (values) => values.slice(),
};

/**
 * A view of a transferred ArrayBuffer reads as empty, so it would pass as a tensor of no elements. Only a
 * zero-length view can be one; constructing a view on a detached buffer throws (Node 20 has no `buffer.detached`).
 */
function isDetached(t: Float32Array): boolean {
  if (t.length !== 0 || t.buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(t.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}
