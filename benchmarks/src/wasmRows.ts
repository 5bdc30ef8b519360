import { clipByGlobalNorm, GradientPipeline, typedArrayOps, type WasmMemoryLike, wasmSimdOps } from '@gradpipe/core';
import { COPY_BASELINE, GradientSet } from './GradientSet.js';
import { jsKernelOps } from './jsKernelOps.js';
import { compare } from './measure.js';
import type { Row } from './Row.js';

const PAGE = 65536;

/** `new WebAssembly.Memory(…)` (the project's TypeScript libs do not declare WebAssembly). */
export function wasmMemory(bytes: number): WasmMemoryLike {
  const api = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemoryLike } }).WebAssembly;
  return new api.Memory({ initial: Math.ceil(bytes / PAGE) + 1 });
}

/**
 * Gradients living in WebAssembly memory (as a WASM runtime's own buffers would): the pipeline with
 * `wasmSimdOps(memory)` (SIMD kernels in place), with `typedArrayOps` (the same kernels through a staging
 * buffer) and with the plain JS kernels — bit-identical results — each as a ratio to copying the same bytes.
 */
export function wasmRows(group: string, tensors: number, size: number, reps: number): Row[] {
  const memory = wasmMemory(tensors * size * 4);
  const simd = wasmSimdOps(memory);
  if (!simd)
    return [{ group, name: 'WASM SIMD kernels', baseline: COPY_BASELINE, note: 'this runtime has no WebAssembly SIMD: not measured' }];
  const set = new GradientSet(tensors, size, (t) => new Float32Array(memory.buffer, t * size * 4, size));
  const rows: Row[] = [];
  const add = (name: string, candidate: () => unknown) =>
    rows.push({ group, name, baseline: COPY_BASELINE, ...compare({ baseline: set.copy, candidate, prepare: set.restore, reps }) });
  const norm = Math.sqrt(set.floats / 3);

  for (const [label, ops] of [
    ['wasmSimdOps (in place)', simd],
    ['typedArrayOps (staged)', typedArrayOps],
    ['JS kernels only', jsKernelOps],
  ] as const) {
    add(`${label}: read pass, L2 norm of every tensor`, () => Object.values(set.grads).reduce((s, g) => s + ops.norm(g, 2), 0));
    const noClip = new GradientPipeline([clipByGlobalNorm({ maxNorm: norm * 10 })]);
    const clip = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
    add(`${label}: pipeline clipByGlobalNorm, does not clip`, () => noClip.stepWith(ops, set.grads));
    add(`${label}: pipeline clipByGlobalNorm, clips`, () => {
      if (!clip.stepWith(ops, set.grads).stats.clipped) throw new Error('benchmark setup: expected a clipping step');
    });
  }
  return rows;
}
