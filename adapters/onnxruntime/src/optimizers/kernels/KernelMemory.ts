import { OPTIMIZER_KERNELS_WASM } from './optimizerKernelsWasm.js';

interface Kernels {
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    b2: number,
    negStep: number,
    bc2: number,
    eps: number,
    l2: number,
    useL2: number,
    keep: number,
  ): void;
  sgd(
    p: number,
    g: number,
    buf: number,
    n: number,
    negLr: number,
    mu: number,
    dampening: number,
    wd: number,
    useWd: number,
    hasBuf: number,
    first: number,
    nesterov: number,
  ): void;
}

/** The parts of the WebAssembly API used here (the project's TypeScript libs do not declare WebAssembly). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (descriptor: { initial: number }) => WasmMemory;
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: unknown };
    };
  }
).WebAssembly;

const PAGE = 65536;
let compiled: object | undefined;

/**
 * An optimizer's buffers in WebAssembly memory, where the SIMD update kernels run: named float32 buffers (the
 * moments, the momentum) that live there, and two scratch areas into which each step copies a parameter and
 * its gradient (a copy costs a small fraction of the update). Views are made on demand, because growing the
 * memory detaches the old ones.
 */
export class KernelMemory {
  private readonly memory = new wasm.Memory({ initial: 1 });
  private readonly kernels: Kernels;
  private readonly buffers = new Map<string, { offset: number; length: number }>();
  private top = 0;
  private scratch = { offset: 0, floats: 0 };

  constructor() {
    compiled ??= new wasm.Module(Buffer.from(OPTIMIZER_KERNELS_WASM, 'base64'));
    this.kernels = new wasm.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as Kernels;
  }

  /** The names of the buffers, in the order they were made. */
  names(): string[] {
    return [...this.buffers.keys()];
  }

  /** A view of a named buffer, or undefined when it does not exist. */
  buffer(name: string): Float32Array | undefined {
    const b = this.buffers.get(name);
    return b && new Float32Array(this.memory.buffer, b.offset, b.length);
  }

  /** The named buffer, made (zeros, or a copy of `initial`) when it does not exist yet. */
  ensure(name: string, length: number, initial?: Float32Array): Float32Array {
    if (!this.buffers.has(name)) {
      this.buffers.set(name, { offset: this.allocate(length), length });
      if (initial) this.buffer(name)!.set(initial);
    }
    return this.buffer(name)!;
  }

  /** Forgets every buffer (the memory is reused from the start). */
  clear(): void {
    this.buffers.clear();
    this.top = 0;
    this.scratch = { offset: 0, floats: 0 };
  }

  /** One Adam update of `p` in place (see optimizerKernels.wat for the formula and its rounding). */
  adam(
    p: Float32Array,
    g: Float32Array,
    m: string,
    v: string,
    h: { b1: number; b2: number; negStep: number; bc2: number; eps: number; l2: number; keep: number },
  ): void {
    const [ps, gs] = this.load(p, g);
    this.kernels.adam(
      ps,
      gs,
      this.buffers.get(m)!.offset,
      this.buffers.get(v)!.offset,
      p.length,
      h.b1,
      h.b2,
      h.negStep,
      h.bc2,
      h.eps,
      h.l2,
      h.l2 !== 0 ? 1 : 0,
      h.keep,
    );
    p.set(new Float32Array(this.memory.buffer, ps, p.length));
  }

  /** One SGD update of `p` in place; `buf` names the momentum buffer, undefined without momentum. */
  sgd(
    p: Float32Array,
    g: Float32Array,
    buf: string | undefined,
    h: { negLr: number; mu: number; dampening: number; wd: number; first: boolean; nesterov: boolean },
  ): void {
    const [ps, gs] = this.load(p, g);
    const b = buf === undefined ? 0 : this.buffers.get(buf)!.offset;
    this.kernels.sgd(
      ps,
      gs,
      b,
      p.length,
      h.negLr,
      h.mu,
      h.dampening,
      h.wd,
      h.wd !== 0 ? 1 : 0,
      buf === undefined ? 0 : 1,
      h.first ? 1 : 0,
      h.nesterov ? 1 : 0,
    );
    p.set(new Float32Array(this.memory.buffer, ps, p.length));
  }

  /** Copies a parameter and its gradient into the scratch areas; returns their offsets. */
  private load(p: Float32Array, g: Float32Array): [number, number] {
    if (this.scratch.floats < p.length) this.scratch = { offset: this.allocate(2 * p.length), floats: p.length };
    const ps = this.scratch.offset;
    const gs = ps + ((p.length * 4 + 15) & ~15);
    new Float32Array(this.memory.buffer, ps, p.length).set(p);
    new Float32Array(this.memory.buffer, gs, g.length).set(g);
    return [ps, gs];
  }

  /** Reserves `floats` float32 (16-byte aligned, for SIMD), growing the memory when needed. */
  private allocate(floats: number): number {
    const offset = this.top;
    this.top += (floats * 4 + 31) & ~15; // room for the scratch's second half alignment, too
    const needed = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) this.memory.grow(needed);
    return offset;
  }
}
