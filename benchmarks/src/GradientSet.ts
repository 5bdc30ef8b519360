import { uniformRandom } from './uniformRandom.js';

/** The baseline of the typed-array and WASM rows: {@link GradientSet.copy}. */
export const COPY_BASELINE = 'TypedArray.prototype.set of the same bytes';

/** A benchmark's gradients: `count` tensors of `size` floats, a pristine copy to restore them, and a copy target. */
export class GradientSet {
  /** The gradients the candidates work on (clipped in place). */
  readonly grads: Record<string, Float32Array>;
  private readonly pristine: Float32Array[];
  private readonly scratch: Float32Array[];

  /**
   * Values are uniform in [-1, 1) (so the L2 norm is about √(n/3)), from a fixed-seed generator.
   * `allocate` lets the tensors live elsewhere, e.g. in WebAssembly memory.
   */
  constructor(
    readonly count: number,
    readonly size: number,
    allocate: (index: number) => Float32Array = () => new Float32Array(size),
  ) {
    const random = uniformRandom(2024);
    this.grads = {};
    this.pristine = [];
    this.scratch = [];
    for (let t = 0; t < count; t++) {
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = random() * 2 - 1;
      const g = allocate(t);
      g.set(values);
      this.grads[`layer${t}`] = g;
      this.pristine.push(values);
      this.scratch.push(new Float32Array(size));
    }
  }

  /** Total floats. */
  get floats(): number {
    return this.count * this.size;
  }

  /** The physical baseline: copy the same bytes with `TypedArray.prototype.set`, tensor by tensor. */
  readonly copy = (): void => {
    for (let t = 0; t < this.count; t++) this.scratch[t]!.set(this.pristine[t]!);
  };

  /** Puts the original values back (untimed, before a candidate that clips in place). */
  readonly restore = (): void => {
    let t = 0;
    for (const g of Object.values(this.grads)) g.set(this.pristine[t++]!);
  };
}
