import { clampInPlace, scaleInPlaceSumOfSquares, sumOfSquares } from '../typedArray/kernels.js';
import { newWasmMemory, wasmSimdKernels } from './wasmSimdKernels.js';
import { clampBounds } from './clampBounds.js';

/*
 * The two L2 passes of the typed-array backend, and its clamp, run by the WebAssembly SIMD kernels on gradients anywhere in JS
 * memory: each piece of 4096 floats is copied into a small buffer inside WebAssembly memory (it stays in the L1
 * cache), processed there, and — when scaled — copied back. Copies are memmove-fast, and the SIMD kernels do the
 * arithmetic several times faster than a JS loop, so the norm pass takes about 0.9× the time of copying the data
 * and the fused scale-and-measure pass about 1.6×, against 1.45× and 2.4× for the JS kernels (docs/benchmarks.md).
 *
 * Results are bit-identical to the JS kernels of kernels.ts: the accumulators carry over from piece to piece and
 * pieces are multiples of 4 floats, so every value meets the same accumulator in the same order. Small arrays,
 * where the copies would not pay, and runtimes without WebAssembly SIMD use the JS kernels.
 */

/** Floats per piece: 16 KiB, well inside L1. */
const PIECE = 4096;
/** Below this length the JS kernels are faster than copying. */
const MIN_LENGTH = 2 * PIECE;

interface Stage {
  kernels: NonNullable<ReturnType<typeof wasmSimdKernels>>;
  buffer: Float32Array;
}

let stage: Stage | null | undefined;

function getStage(): Stage | null {
  if (stage === undefined) {
    const memory = newWasmMemory(1);
    const kernels = memory && wasmSimdKernels(memory);
    stage = memory && kernels ? { kernels, buffer: new Float32Array(memory.buffer, 0, PIECE) } : null;
  }
  return stage;
}

/** The stage, when `x` is a Float32Array long enough for the copies to pay (typed as one, it may not be). */
function useStage(x: Float32Array): Stage | null {
  return x.length >= MIN_LENGTH && x instanceof Float32Array ? getStage() : null;
}

/**
 * Feeds `x` through the stage piece by piece: each piece is copied into the buffer, `work(length)` runs the
 * kernels on the buffer's first `length` floats, and the piece is copied back when `work` says it changed.
 */
function throughStage(x: Float32Array, buffer: Float32Array, work: (length: number) => boolean): void {
  for (let start = 0; start < x.length; start += PIECE) {
    const length = Math.min(PIECE, x.length - start);
    buffer.set(x.subarray(start, start + length));
    if (work(length)) x.set(length === PIECE ? buffer : buffer.subarray(0, length), start);
  }
}

/** Σ x² in float64, bit-identical to {@link sumOfSquares}. */
export function stagedSumOfSquares(x: Float32Array): number {
  const s = useStage(x);
  if (!s) return sumOfSquares(x);
  const { kernels, buffer } = s;
  kernels.reset();
  let total = 0;
  throughStage(x, buffer, (length) => {
    total = kernels.sumOfSquares(0, length);
    return false;
  });
  return total;
}

/** x ← float32(x · factor) in place, returning Σ y²: bit-identical to {@link scaleInPlaceSumOfSquares}. */
export function stagedScaleInPlaceSumOfSquares(x: Float32Array, factor: number): number {
  const s = useStage(x);
  if (!s) return scaleInPlaceSumOfSquares(x, factor);
  const { kernels, buffer } = s;
  kernels.reset();
  let total = 0;
  throughStage(x, buffer, (length) => {
    total = kernels.scaleSumOfSquares(0, length, factor);
    return true;
  });
  return total;
}

/**
 * x ← min(max(x, min), max) in place (NaN stays NaN, bits of unchanged values untouched); 1 when some value
 * changed, else 0 — the same values and answer as {@link clampInPlace}. Only pieces that changed are copied back.
 */
export function stagedClampInPlace(x: Float32Array, min: number, max: number): number {
  const s = useStage(x);
  if (!s) return clampInPlace(x, min, max) > 0 ? 1 : 0;
  const { kernels, buffer } = s;
  const { above, below, hi, lo } = clampBounds(min, max);
  let changed = 0;
  throughStage(x, buffer, (length) => {
    if (kernels.clamp(0, length, above, below, hi, lo) === 0) return false;
    changed = 1;
    return true;
  });
  return changed;
}
