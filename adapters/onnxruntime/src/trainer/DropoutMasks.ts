import { describeValue, GradpipeError } from '@gradpipe/core';
import * as ort from 'onnxruntime-node';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import { evaluateDim } from '../shapes/Dim.js';
import type { DropoutMask } from '../training/lowerTrainingForms.js';

/**
 * Draws the masks of training-mode Dropout nodes, a fresh one per node and step, from a seeded xoroshiro128+
 * generator whose state is saved with the trainer: a run reproduces from its seed, and a resumed run continues
 * the same stream. Each element is kept with probability 1 − ratio and then scaled by 1/(1 − ratio), as in
 * PyTorch's `nn.Dropout` (a ratio of 1 drops everything).
 */
export class DropoutMasks {
  private generator: JumpableRandomGenerator;

  constructor(
    private readonly masks: readonly DropoutMask[],
    seed: number,
  ) {
    this.generator = xoroshiro128plus(seed);
    // The first draws after seeding from a small integer are poorly mixed (seed 0 starts with −1, −65537, …).
    for (let i = 0; i < 32; i++) this.generator.next();
  }

  /** The generator's state, for saving. */
  state(): number[] {
    return [...this.generator.getState()];
  }

  /** Restores a saved state (checked: four 32-bit integers, not all 0 — from there xoroshiro128+ draws only zeros). */
  restore(fn: string, state: unknown): void {
    const words = Array.isArray(state) ? Array.from(state as unknown[]) : undefined; // holes become undefined
    if (
      words?.length !== 4 ||
      words.some((v) => !Number.isInteger(v) || (v as number) < -(2 ** 31) || (v as number) >= 2 ** 31) ||
      words.every((v) => v === 0)
    ) {
      throw new GradpipeError(fn, `state.rng must be the four 32-bit integers of a saved generator state, got ${describeValue(state)}`);
    }
    this.generator = xoroshiro128plusFromState(words as number[]);
  }

  /** The masks for one step, as feeds, sized from the sizes of the model's named dims in this step's feeds. */
  draw(sizes: ReadonlyMap<string, number>): Record<string, ort.Tensor> {
    if (this.masks.length === 0) return {};
    const out: Record<string, ort.Tensor> = {};
    for (const mask of this.masks) {
      const dims = mask.dims.map((d) => evaluateDim(d, sizes)!);
      const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
      if (mask.ratio < 1) {
        const scale = Math.fround(1 / (1 - mask.ratio));
        // Kept when a uniform 32-bit draw is at or above ratio·2³².
        const threshold = mask.ratio * 2 ** 32;
        for (let i = 0; i < data.length; i++) data[i] = this.generator.next() + 2 ** 31 >= threshold ? scale : 0;
      }
      out[mask.input] = new ort.Tensor('float32', data, dims);
    }
    return out;
  }
}
