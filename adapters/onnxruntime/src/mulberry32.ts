/**
 * A small seeded uniform generator on [0, 1) (mulberry32): deterministic weights and test data on every machine.
 *
 * @example
 * ```ts
 * import { mulberry32 } from '@gradpipe/onnxruntime';
 * const random = mulberry32(1);
 * random(); // the same number on every machine
 * ```
 */
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
