/**
 * The spike rule, shared by the report and the `spikes` operator: a value is a spike when it lies more than `z`
 * robust standard deviations above the median of the `window` finite values before it:
 *
 *     x > median + z · max(1.4826 · MAD, 0.01 · |median|)
 *
 * MAD is the median absolute deviation from the median; 1.4826 · MAD estimates the standard deviation of normal
 * data without being pulled by the spikes themselves. The floor of 1% of the median keeps a window of (nearly)
 * identical values from turning every small rise into a spike. Only upward jumps count: a loss or a gradient norm
 * that suddenly falls is no alarm. Nothing is a spike before `window` values have been seen. Non-finite values are
 * never spikes (the report counts them apart) and do not enter the window; spikes do enter it.
 */
export const SPIKE_SCALE = 1.4826;
/** The smallest robust scale, as a fraction of |median|. */
export const SPIKE_FLOOR = 0.01;

/** What the detector found about one value. */
export interface SpikeTest {
  /** True when the value is a spike. */
  spike: boolean;
  /** The median of the window before the value. */
  median: number;
  /** The robust scale used: max(1.4826 · MAD, 0.01 · |median|). */
  scale: number;
  /** (value − median) / scale. */
  z: number;
}

/**
 * A trailing window of the last `window` finite values, kept sorted, so each new value costs one binary search
 * and two block moves, and the MAD a walk outward from the median: O(window) per value with small constants.
 */
export class SpikeDetector {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private size = 0;
  private next = 0;

  constructor(
    readonly window: number,
    readonly z: number,
  ) {
    this.ring = new Float64Array(window);
    this.sorted = new Float64Array(window);
  }

  /** Tests `value` against the window before it, then adds it to the window. Undefined for a non-finite value. */
  push(value: number): SpikeTest | undefined {
    if (!Number.isFinite(value)) return undefined;
    let result: SpikeTest | undefined;
    if (this.size === this.window) {
      const median = this.median();
      const scale = Math.max(SPIKE_SCALE * this.mad(median), SPIKE_FLOOR * Math.abs(median));
      const z = scale > 0 ? (value - median) / scale : value > median ? Infinity : 0;
      // The same test as isSpike, so the operator and the report always agree.
      result = { spike: scale > 0 ? value - median > this.z * scale : value > median, median, scale, z };
    }
    this.add(value);
    return result;
  }

  /** Only whether `value` is a spike, without building a result object: what the report calls per step. */
  isSpike(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    let spike = false;
    if (this.size === this.window) {
      const median = this.median();
      // The scale is at least the floor, so a value within z floors of the median (half of all values are below
      // it) is no spike whatever the MAD: the MAD, the costly part, is only needed above that.
      const floor = SPIKE_FLOOR * Math.abs(median);
      if (value - median > this.z * floor) {
        const scale = Math.max(SPIKE_SCALE * this.mad(median), floor);
        spike = scale > 0 ? value - median > this.z * scale : value > median;
      }
    }
    this.add(value);
    return spike;
  }

  /** An independent copy (the live server summarizes a copy while the original keeps reading). */
  clone(): SpikeDetector {
    const copy = new SpikeDetector(this.window, this.z);
    copy.ring.set(this.ring);
    copy.sorted.set(this.sorted);
    copy.size = this.size;
    copy.next = this.next;
    return copy;
  }

  private add(value: number): void {
    const s = this.sorted;
    if (this.size === this.window) {
      const old = this.ring[this.next]!;
      const at = lowerBound(s, this.size, old);
      s.copyWithin(at, at + 1, this.size);
      this.size--;
    }
    const at = lowerBound(s, this.size, value);
    s.copyWithin(at + 1, at, this.size);
    s[at] = value;
    this.size++;
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.window;
  }

  private median(): number {
    const s = this.sorted;
    const n = this.size;
    return n % 2 === 1 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  }

  /**
   * The median of |x − median|. Below the median the deviations grow going down the sorted window, above it going
   * up: merging the two runs from the middle outward gives the deviations in order, so the middle one(s) are found
   * after n/2 steps.
   */
  private mad(median: number): number {
    const s = this.sorted;
    const n = this.size;
    let lo = lowerBound(s, n, median) - 1; // last index below the median
    let hi = lo + 1; // first index at or above it
    const k1 = (n - 1) >> 1;
    const k2 = n >> 1;
    let a = 0;
    for (let k = 0; k <= k2; k++) {
      let d: number;
      if (lo < 0) d = s[hi++]! - median;
      else if (hi >= n) d = median - s[lo--]!;
      else {
        const dl = median - s[lo]!;
        const dh = s[hi]! - median;
        if (dl <= dh) {
          d = dl;
          lo--;
        } else {
          d = dh;
          hi++;
        }
      }
      if (k === k1) a = d;
      if (k === k2) return (a + d) / 2;
    }
    return a;
  }
}

/** The first index in sorted[0, n) whose value is >= v. */
function lowerBound(sorted: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
