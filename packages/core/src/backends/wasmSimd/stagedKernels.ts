import {
  blockSumOfSquares,
  clampInPlace,
  float32Factor,
  scaleInPlace,
  scaleInPlaceSumOfSquares,
  sumOfSquares,
  trustedBlockSum,
} from '../typedArray/kernels.js';
import { clampBounds } from './clampBounds.js';
import { newWasmMemory, wasmSimdKernels } from './wasmSimdKernels.js';

/*
 * The typed-array backend's passes over large arrays, run by the WebAssembly SIMD kernels on gradients anywhere in
 * JS memory: each piece of 4096 floats is copied into a small buffer inside WebAssembly memory (it stays in the L1
 * cache), processed there, and — when changed — copied back. The copies run at memory speed and the SIMD kernels
 * keep up with them (docs/benchmarks.md has the figures).
 *
 * The buffer's address is chosen per array so that it never shares its position within a 4 KiB page with the
 * array's: otherwise every store of a copy seems to the CPU to depend on the load before it ("4K aliasing") and
 * copying a piece back takes four times as long.
 *
 * Results are bit-identical to the JS kernels of kernels.ts: the accumulators carry over from piece to piece and
 * pieces are multiples of 32 floats, so every value meets the same accumulator in the same order. Small arrays,
 * where the copies would not pay, and runtimes without WebAssembly SIMD use the JS kernels.
 */

/** Floats per piece: 16 KiB, well inside L1. */
const PIECE = 4096;
/** Below this length the JS kernels are faster than copying. */
const MIN_LENGTH = 2 * PIECE;
/** Bytes in a page, for the aliasing rule above. */
const PAGE = 4096;

interface Stage {
  kernels: NonNullable<ReturnType<typeof wasmSimdKernels>>;
  memory: { readonly buffer: ArrayBuffer };
  /** Buffers at every 16-byte position within a page (built on first use). */
  buffers: Map<number, Float32Array>;
}

let stage: Stage | null | undefined;

function getStage(): Stage | null {
  if (stage === undefined) {
    const memory = newWasmMemory(1);
    const kernels = memory && wasmSimdKernels(memory);
    stage = memory && kernels ? { kernels, memory, buffers: new Map() } : null;
  }
  return stage;
}

/** The stage and its buffer for `x`, when `x` is a Float32Array long enough for the copies to pay. */
function useStage(x: Float32Array): { kernels: Stage['kernels']; buffer: Float32Array; at: number } | null {
  if (x.length < MIN_LENGTH || !(x instanceof Float32Array)) return null;
  const s = getStage();
  if (!s) return null;
  // Half a page away from the array's own position in its page, on a 16-byte boundary.
  const at = (((x.byteOffset % PAGE) + PAGE / 2) % PAGE) & ~15;
  let buffer = s.buffers.get(at);
  if (!buffer) s.buffers.set(at, (buffer = new Float32Array(s.memory.buffer, at, PIECE)));
  return { kernels: s.kernels, buffer, at };
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
  s.kernels.reset();
  let total = 0;
  throughStage(x, s.buffer, (length) => {
    total = s.kernels.sumOfSquares(s.at, length);
    return false;
  });
  return total;
}

/** Σ x² the fast way, bit-identical to {@link blockSumOfSquares}. */
export function stagedBlockSumOfSquares(x: Float32Array): number {
  const s = useStage(x);
  if (!s) return blockSumOfSquares(x);
  s.kernels.reset();
  let total = 0;
  throughStage(x, s.buffer, (length) => {
    total = s.kernels.blockSumOfSquares(s.at, length);
    return false;
  });
  return total;
}

/**
 * Σ x² for the L2 norm: the fast block pass, and the exact float64 pass where the fast one cannot be trusted
 * (non-finite input, squares beyond float32's range or below its normal range: {@link trustedBlockSum}).
 */
export function normSquared(x: Float32Array): number {
  const fast = stagedBlockSumOfSquares(x);
  return trustedBlockSum(fast, x.length) ? fast : stagedSumOfSquares(x);
}

/** x ← float32(x · c) in place, bit-identical to {@link scaleInPlace}. */
export function stagedScaleInPlace(x: Float32Array, factor: number): void {
  const s = useStage(x);
  const c = float32Factor(factor);
  if (!s || c === undefined) {
    scaleInPlace(x, factor);
    return;
  }
  throughStage(x, s.buffer, (length) => {
    s.kernels.scale(s.at, length, c);
    return true;
  });
}

/** {@link scaleInPlace}, returning Σ y²: bit-identical to {@link scaleInPlaceSumOfSquares}. */
export function stagedScaleInPlaceSumOfSquares(x: Float32Array, factor: number): number {
  const s = useStage(x);
  if (!s) return scaleInPlaceSumOfSquares(x, factor);
  // A float32 factor: the kernel's float64 product of two float32 values is exact, so one rounding, as in JS.
  const c = float32Factor(factor) ?? factor;
  s.kernels.reset();
  let total = 0;
  throughStage(x, s.buffer, (length) => {
    total = s.kernels.scaleSumOfSquares(s.at, length, c);
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
  const { above, below, hi, lo } = clampBounds(min, max);
  let changed = 0;
  throughStage(x, s.buffer, (length) => {
    if (s.kernels.clamp(s.at, length, above, below, hi, lo) === 0) return false;
    changed = 1;
    return true;
  });
  return changed;
}
