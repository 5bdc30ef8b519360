/**
 * The float32 arguments of `clamp` that reproduce the JS kernel `x > max ? max : x < min ? min : x` (compared in
 * float64, stored as float32) exactly: for a float32 x, `x > max` exactly when x is above the largest float32
 * ≤ max, and `x < min` exactly when x is below the smallest float32 ≥ min; the stored bounds are max and min
 * rounded to float32, as a `Float32Array` store rounds them. (The `clamp` kernel of kernels.wat takes these four.)
 */
export function clampBounds(min: number, max: number): { above: number; below: number; hi: number; lo: number } {
  const hi = Math.fround(max);
  const lo = Math.fround(min);
  return { above: hi > max ? nextFloat32(hi, -1) : hi, below: lo < min ? nextFloat32(lo, 1) : lo, hi, lo };
}

const bits = new Float32Array(1);
const asInt = new Int32Array(bits.buffer);

/** The float32 next to the float32 `x` towards +∞ (`direction` 1) or −∞ (−1). */
function nextFloat32(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * 2 ** -149;
  bits[0] = x;
  asInt[0]! += (x > 0 ? 1 : -1) * direction;
  return bits[0]!;
}
