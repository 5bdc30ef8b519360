import { describeValue, GradpipeError } from '../../errors/GradpipeError.js';
import type { TensorOps } from '../TensorOps.js';
import { float32Factor, trustedBlockSum } from '../typedArray/kernels.js';
import { type FloatArray, typedArrayOps } from '../typedArray/typedArrayOps.js';
import { clampBounds } from './clampBounds.js';
import { type WasmMemoryLike, wasmSimdKernels } from './wasmSimdKernels.js';

/**
 * The typed-array backend for gradients that live in WebAssembly memory (`Float32Array` views of a
 * `WebAssembly.Memory`, as a WASM runtime's own buffers are): its L2 passes — the norm, and the fused
 * scale-and-measure of a clipping step — and its clamp run the WebAssembly SIMD kernels right where the data is,
 * with no copy.
 * Results are bit-identical to {@link typedArrayOps}; arrays elsewhere, and other norms, take its usual path.
 * Returns `undefined` when this runtime has no WebAssembly SIMD.
 *
 * (Gradients in ordinary JS memory need nothing: {@link typedArrayOps} already runs the same kernels through a
 * small staging buffer. In WebAssembly memory the staging copies are saved: see docs/benchmarks.md.)
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm, typedArrayOps, wasmSimdOps } from '@gradpipe/core';
 *
 * const memory = new WebAssembly.Memory({ initial: 16 }); // or your WASM runtime's memory
 * const w = new Float32Array(memory.buffer, 0, 1024);     // gradients living in it
 * const ops = wasmSimdOps(memory) ?? typedArrayOps;
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * pipe.stepWith(ops, { w });
 * ```
 */
export function wasmSimdOps(memory: WasmMemoryLike): TensorOps<FloatArray, number> | undefined {
  if (typeof memory !== 'object' || memory === null || !(memory.buffer instanceof ArrayBuffer || isShared(memory.buffer))) {
    throw new GradpipeError('wasmSimdOps', `memory must be a WebAssembly.Memory, got ${describeValue(memory)}`);
  }
  const kernels = wasmSimdKernels(memory);
  if (!kernels) return undefined;
  // memory.buffer is replaced when the memory grows: compare with the current one at every call.
  const inMemory = (t: FloatArray): t is Float32Array => t instanceof Float32Array && t.buffer === memory.buffer;
  // The same passes as typedArrayOps' staged ones, run where the data is: the same results, bit for bit.
  const normSquared = (t: Float32Array) => {
    kernels.reset();
    const fast = kernels.blockSumOfSquares(t.byteOffset, t.length);
    if (trustedBlockSum(fast, t.length)) return fast;
    kernels.reset();
    return kernels.sumOfSquares(t.byteOffset, t.length);
  };
  const scaleSumOfSquares = (t: Float32Array, factor: number) => {
    kernels.reset();
    return kernels.scaleSumOfSquares(t.byteOffset, t.length, float32Factor(factor) ?? factor);
  };
  return {
    ...typedArrayOps,
    name: 'typed-array (WASM SIMD)',
    norm: (t, p) => (p === 2 && inMemory(t) ? Math.sqrt(normSquared(t)) : typedArrayOps.norm(t, p)),
    scale(t, factor) {
      if (factor === 1 || !inMemory(t)) return typedArrayOps.scale(t, factor);
      const c = float32Factor(factor);
      if (c === undefined) return typedArrayOps.scale(t, factor);
      kernels.scale(t.byteOffset, t.length, c);
      return t;
    },
    clamp(t, min, max) {
      if (!inMemory(t)) return typedArrayOps.clamp(t, min, max);
      const { above, below, hi, lo } = clampBounds(min, max);
      return [t, kernels.clamp(t.byteOffset, t.length, above, below, hi, lo)];
    },
    scaleWithNorm(t, factor) {
      if (!inMemory(t)) return typedArrayOps.scaleWithNorm!(t, factor);
      if (factor === 1) return [t, Math.sqrt(normSquared(t))];
      return [t, Math.sqrt(scaleSumOfSquares(t, factor))];
    },
  };
}

function isShared(buffer: unknown): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
}
