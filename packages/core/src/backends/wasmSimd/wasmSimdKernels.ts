import { wasmSimdModuleBytes } from './wasmSimdModule.js';

/** A `WebAssembly.Memory` (typed structurally: core's TypeScript libs do not declare WebAssembly). */
export interface WasmMemoryLike {
  /**
   * The memory's current bytes. A new `ArrayBuffer` replaces it whenever the memory grows, so arrays are
   * compared with it at every call, never with a copy kept from earlier.
   */
  readonly buffer: ArrayBuffer;
}

/** The kernels of {@link wasmSimdModuleBytes}, bound to one memory. Offsets in bytes. */
export interface WasmSimdKernels {
  sumOfSquares(ptr: number, n: number): number;
  blockSumOfSquares(ptr: number, n: number): number;
  scaleSumOfSquares(ptr: number, n: number, factor: number): number;
  scale(ptr: number, n: number, factor: number): void;
  reset(): void;
  clamp(ptr: number, n: number, above: number, below: number, hi: number, lo: number): number;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemoryLike;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;

/** The compiled module (once), or null when this runtime has no WebAssembly SIMD. */
function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = wasmSimdModuleBytes();
      compiled = api?.validate(bytes) ? new api.Module(bytes) : null;
    } catch {
      compiled = null; // e.g. a content security policy that forbids WebAssembly
    }
  }
  return compiled;
}

/** The kernels working on `memory`, or undefined without WebAssembly SIMD. */
export function wasmSimdKernels(memory: WasmMemoryLike): WasmSimdKernels | undefined {
  const module = wasmModule();
  if (!module || !api) return undefined;
  return new api.Instance(module, { env: { memory } }).exports as unknown as WasmSimdKernels;
}

/** A new WebAssembly memory of `pages` × 64 KiB, or undefined without WebAssembly SIMD. */
export function newWasmMemory(pages: number): WasmMemoryLike | undefined {
  return wasmModule() && api ? new api.Memory({ initial: pages }) : undefined;
}
