import { GradpipeError, describeValue } from './errors.js';
import type { TensorOps } from './TensorOps.js';
import { type FloatArray, typedArrayOps } from './typedArrayOps.js';
import { wasmSimdModuleBytes } from './wasmSimdModule.js';

/** A `WebAssembly.Memory` (typed structurally: core's TypeScript libs do not declare WebAssembly). */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

interface Kernels {
  sumOfSquares(ptr: number, n: number): number;
  scaleSumOfSquares(ptr: number, n: number, factor: number): number;
}

let compiled: object | null | undefined;

/** The compiled module, or null when this runtime has no WebAssembly SIMD. Compiled once. */
function wasmModule(): object | null {
  if (compiled === undefined) {
    const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = wasmSimdModuleBytes();
    compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/**
 * The typed-array backend, with its L2 passes — the norm, and the fused scale-and-measure of a clipping step —
 * run by WebAssembly SIMD kernels for gradients that live in `memory` (`Float32Array` views of a
 * `WebAssembly.Memory`, as a WASM runtime's own buffers are). Results are bit-identical to
 * {@link typedArrayOps}; arrays elsewhere, and other norms, go to the JS kernels. Returns `undefined` when this
 * runtime has no WebAssembly SIMD.
 *
 * On Node 20 (see docs/benchmarks.md), clipping 100 MB of such gradients takes about half the time of the JS
 * kernels; the read pass alone gains less.
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
  const module = wasmModule();
  if (!module) return undefined;
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const kernels = new wasm.Instance(module, { env: { memory } }).exports as unknown as Kernels;
  // memory.buffer is replaced when the memory grows: compare with the current one at every call.
  const inMemory = (t: FloatArray): t is Float32Array => t instanceof Float32Array && t.buffer === memory.buffer;
  return {
    ...typedArrayOps,
    name: 'typed-array (WASM SIMD)',
    norm: (t, p) => (p === 2 && inMemory(t) ? Math.sqrt(kernels.sumOfSquares(t.byteOffset, t.length)) : typedArrayOps.norm(t, p)),
    scale(t, factor) {
      if (factor !== 1 && inMemory(t)) {
        kernels.scaleSumOfSquares(t.byteOffset, t.length, factor);
        return t;
      }
      return typedArrayOps.scale(t, factor);
    },
    scaleWithNorm(t, factor) {
      if (!inMemory(t)) return typedArrayOps.scaleWithNorm!(t, factor);
      if (factor === 1) return [t, Math.sqrt(kernels.sumOfSquares(t.byteOffset, t.length))];
      return [t, Math.sqrt(kernels.scaleSumOfSquares(t.byteOffset, t.length, factor))];
    },
  };
}

function isShared(buffer: unknown): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
}
