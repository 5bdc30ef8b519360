/**
 * A downsampled series that never holds more than `limit` buckets, however many values arrive: values are taken
 * in order, `size` per bucket; when one more bucket would be needed, neighbouring buckets are merged in pairs and
 * `size` doubles. So `size` is always the smallest power of two that fits the values seen into `limit` buckets,
 * and memory stays the same for a thousand steps or a billion.
 *
 * Per bucket and per value channel it keeps the smallest and largest finite value and the step each came from
 * (the first such step on a tie), so a drawn bucket can show its minimum and maximum in the order they happened
 * and a one-step spike keeps its full height. Flags (clipped, skipped, …) are OR-ed over the bucket. With
 * `geometric`, it also keeps per channel the sum and count of log10 of the positive finite values, for the
 * bucket's geometric mean (the per-layer heatmap's colour).
 */
export class Buckets {
  /** Values per bucket: a power of two. */
  size = 1;
  /** Buckets in use. */
  count = 0;
  /** Values added. */
  values = 0;
  readonly first: Float64Array;
  readonly last: Float64Array;
  readonly flags: Uint8Array;
  /** Per channel: min, step of min, max, step of max. NaN where a bucket has no finite value. */
  readonly min: Float64Array[];
  readonly minAt: Float64Array[];
  readonly max: Float64Array[];
  readonly maxAt: Float64Array[];
  /** Per channel (with `geometric`): sum and count of log10 of the positive finite values. */
  readonly logSum: Float64Array[];
  readonly logCount: Float64Array[];

  constructor(
    readonly limit: number,
    readonly channels: number,
    readonly geometric = false,
  ) {
    this.first = new Float64Array(limit);
    this.last = new Float64Array(limit);
    this.flags = new Uint8Array(limit);
    const arrays = () => Array.from({ length: channels }, () => new Float64Array(limit));
    this.min = arrays();
    this.minAt = arrays();
    this.max = arrays();
    this.maxAt = arrays();
    this.logSum = geometric ? arrays() : [];
    this.logCount = geometric ? arrays() : [];
  }

  /** Empty buckets with the boundaries of `other` (a series that starts later but is drawn on the same columns). */
  static emptyLike(other: Buckets): Buckets {
    const copy = new Buckets(other.limit, other.channels, other.geometric);
    copy.size = other.size;
    copy.count = other.count;
    copy.values = other.values;
    copy.first.set(other.first);
    copy.last.set(other.last);
    for (let c = 0; c < copy.channels; c++) {
      copy.min[c]!.fill(Number.NaN);
      copy.max[c]!.fill(Number.NaN);
    }
    return copy;
  }

  /**
   * Adds one value per channel for `step` (steps must come in ascending order); non-finite values and null
   * only set nothing. `flags` is a bit mask OR-ed into the bucket.
   */
  add(step: number, values: readonly (number | null | undefined)[], flags: number): void {
    let k = this.count - 1;
    if (this.values % this.size === 0) {
      if (this.count === this.limit) {
        this.mergePairs();
        this.add(step, values, flags);
        return;
      }
      k = this.count++;
      this.first[k] = step;
      this.flags[k] = 0;
      for (let c = 0; c < this.channels; c++) {
        this.min[c]![k] = Number.NaN;
        this.max[c]![k] = Number.NaN;
        if (this.geometric) {
          this.logSum[c]![k] = 0;
          this.logCount[c]![k] = 0;
        }
      }
    }
    this.values++;
    this.last[k] = step;
    this.flags[k]! |= flags;
    for (let c = 0; c < this.channels; c++) {
      const v = values[c];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const min = this.min[c]!;
      const max = this.max[c]!;
      if (Number.isNaN(min[k]!) || v < min[k]!) {
        min[k] = v;
        this.minAt[c]![k] = step;
      }
      if (Number.isNaN(max[k]!) || v > max[k]!) {
        max[k] = v;
        this.maxAt[c]![k] = step;
      }
      if (this.geometric && v > 0) {
        this.logSum[c]![k]! += Math.log10(v);
        this.logCount[c]![k]!++;
      }
    }
  }

  /** Merges buckets 2j and 2j+1 into bucket j: `size` doubles, `count` halves (rounded up). */
  mergePairs(): void {
    const n = this.count;
    for (let j = 0; 2 * j < n; j++) {
      const a = 2 * j;
      const b = a + 1;
      this.first[j] = this.first[a]!;
      this.last[j] = this.last[b < n ? b : a]!;
      this.flags[j] = this.flags[a]! | (b < n ? this.flags[b]! : 0);
      for (let c = 0; c < this.channels; c++) {
        const min = this.min[c]!;
        const minAt = this.minAt[c]!;
        const max = this.max[c]!;
        const maxAt = this.maxAt[c]!;
        // The earlier bucket wins ties, as if the values had been added to one bucket in order.
        const takeMin = b < n && !Number.isNaN(min[b]!) && (Number.isNaN(min[a]!) || min[b]! < min[a]!);
        min[j] = takeMin ? min[b]! : min[a]!;
        minAt[j] = takeMin ? minAt[b]! : minAt[a]!;
        const takeMax = b < n && !Number.isNaN(max[b]!) && (Number.isNaN(max[a]!) || max[b]! > max[a]!);
        max[j] = takeMax ? max[b]! : max[a]!;
        maxAt[j] = takeMax ? maxAt[b]! : maxAt[a]!;
        if (this.geometric) {
          this.logSum[c]![j] = this.logSum[c]![a]! + (b < n ? this.logSum[c]![b]! : 0);
          this.logCount[c]![j] = this.logCount[c]![a]! + (b < n ? this.logCount[c]![b]! : 0);
        }
      }
    }
    this.count = Math.ceil(n / 2);
    this.size *= 2;
  }

  /** Merges until buckets hold `size` values (a power of two at least the current size). */
  coarsen(size: number): void {
    while (this.size < size) this.mergePairs();
  }

  /** An independent copy. */
  clone(): Buckets {
    const copy = new Buckets(this.limit, this.channels, this.geometric);
    copy.size = this.size;
    copy.count = this.count;
    copy.values = this.values;
    copy.first.set(this.first);
    copy.last.set(this.last);
    copy.flags.set(this.flags);
    for (let c = 0; c < this.channels; c++) {
      copy.min[c]!.set(this.min[c]!);
      copy.minAt[c]!.set(this.minAt[c]!);
      copy.max[c]!.set(this.max[c]!);
      copy.maxAt[c]!.set(this.maxAt[c]!);
      if (this.geometric) {
        copy.logSum[c]!.set(this.logSum[c]!);
        copy.logCount[c]!.set(this.logCount[c]!);
      }
    }
    return copy;
  }

  /** The geometric mean of channel c's positive finite values in bucket k, or null when it has none. */
  geometricMean(k: number, c: number): number | null {
    const n = this.logCount[c]![k]!;
    return n > 0 ? 10 ** (this.logSum[c]![k]! / n) : null;
  }

  /** How many points bucket k is drawn as: two (its first and last step), or one when it holds one value. */
  points(k: number): 1 | 2 {
    // Every bucket but the last is full.
    const held = k < this.count - 1 ? this.size : this.values - (this.count - 1) * this.size;
    return held === 1 ? 1 : 2;
  }

  /**
   * Channel c of bucket k as drawn: [value at the first point, value at the second], min and max in the order
   * they happened, and which point shows the max (0 or 1; 0 when the bucket has no finite value).
   */
  pair(k: number, c: number): [number | null, number | null, 0 | 1] {
    const min = this.min[c]![k]!;
    if (Number.isNaN(min)) return [null, null, 0];
    const max = this.max[c]![k]!;
    return this.minAt[c]![k]! <= this.maxAt[c]![k]! ? [min, max, 1] : [max, min, 0];
  }
}
