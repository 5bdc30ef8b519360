/**
 * Core's WebAssembly SIMD kernels must give exactly what its JS kernels give — the same norm bits and the same
 * stored floats — so that the faster paths change nothing but the time: wasmSimdOps (gradients in WebAssembly
 * memory) and the staged kernels typedArrayOps uses for large arrays in JS memory.
 */

import { clipByGlobalNorm, GradientPipeline, GradpipeError, typedArrayOps, type WasmMemoryLike, wasmSimdOps } from '@gradpipe/core';
import {
  blockSumOfSquares,
  clampInPlace,
  normSquared,
  scaleInPlace,
  scaleInPlaceSumOfSquares,
  stagedBlockSumOfSquares,
  stagedClampInPlace,
  stagedScaleInPlace,
  stagedScaleInPlaceSumOfSquares,
  stagedSumOfSquares,
  sumOfSquares,
  trustedBlockSum,
} from '@gradpipe/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** A WebAssembly memory of at least `bytes` (core's TypeScript libs do not declare WebAssembly). */
function wasmMemory(bytes: number): WasmMemoryLike {
  const api = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemoryLike } }).WebAssembly;
  return new api.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
}

const values = fc.array(fc.oneof(fc.float({ min: -1e3, max: 1e3, noNaN: true }), fc.float({ noNaN: true, noDefaultInfinity: true })), {
  minLength: 0,
  maxLength: 41,
});

function bitsOf(x: Float32Array): number[] {
  return Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
}

describe('wasmSimdOps', () => {
  const memory = wasmMemory(65536);
  const ops = wasmSimdOps(memory)!;

  it('is available on this Node', () => {
    expect(ops).toBeDefined();
    expect(ops.name).toBe('typed-array (WASM SIMD)');
  });

  it('measures L2 norms bit-identically to typedArrayOps', () => {
    fc.assert(
      fc.property(values, fc.nat(9), (v, offset) => {
        const x = new Float32Array(memory.buffer, offset * 4, v.length);
        x.set(v);
        expect(Object.is(ops.norm(x, 2), typedArrayOps.norm(Float32Array.from(v), 2))).toBe(true);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('scales in place and measures the result bit-identically to typedArrayOps.scaleWithNorm', () => {
    fc.assert(
      fc.property(values, fc.nat(9), fc.double({ min: 1e-6, max: 4, noNaN: true }), (v, offset, factor) => {
        const x = new Float32Array(memory.buffer, 1024 + offset * 4, v.length);
        x.set(v);
        const reference = Float32Array.from(v);
        const [, n] = ops.scaleWithNorm!(x, factor);
        const [, expected] = typedArrayOps.scaleWithNorm!(reference, factor);
        expect(bitsOf(x)).toEqual(bitsOf(reference));
        expect(Object.is(n, expected)).toBe(true);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('scales in place bit-identically to typedArrayOps.scale', () => {
    fc.assert(
      fc.property(values, fc.nat(9), fc.double({ min: 1e-40, max: 4, noNaN: true }), (v, offset, factor) => {
        const x = new Float32Array(memory.buffer, 2048 + offset * 4, v.length);
        x.set(v);
        const reference = Float32Array.from(v);
        ops.scale(x, factor);
        typedArrayOps.scale(reference, factor);
        expect(bitsOf(x)).toEqual(bitsOf(reference));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('clips through a pipeline exactly as pipe.step does', () => {
    const v = Array.from({ length: 1003 }, (_, i) => Math.sin(i) * 7);
    const w = new Float32Array(memory.buffer, 4096, v.length);
    w.set(v);
    const inWasm = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).stepWith(ops, { w });
    const inJs = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step({ w: Float32Array.from(v) });
    expect(bitsOf(inWasm.grads.w as Float32Array)).toEqual(bitsOf(inJs.grads.w!));
    expect(inWasm.stats).toEqual(inJs.stats);
    expect(inWasm.stats.clipped).toBe(true);
  });

  it('leaves arrays outside its memory, and other norms, to the JS kernels', () => {
    const outside = Float32Array.of(3, 4);
    expect(ops.norm(outside, 2)).toBe(5);
    expect(ops.norm(new Float32Array(memory.buffer, 0, 2).fill(1), 1)).toBe(2);
  });

  it('refuses what is not a memory', () => {
    expect(() => wasmSimdOps(null as never)).toThrow(GradpipeError);
    expect(() => wasmSimdOps({} as never)).toThrow('wasmSimdOps: memory must be a WebAssembly.Memory, got object');
  });
});

describe('the staged WASM SIMD kernels of typedArrayOps', () => {
  // Long enough to take the staged path (≥ 8192 floats), crossing 4096-float pieces at every remainder mod 4.
  const longArray = fc
    .tuple(fc.integer({ min: 8192, max: 13_000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(1e-30, 1, 1e30))
    .map(([length, seed, scale]) => {
      let state = seed;
      return Float32Array.from({ length }, () => ((state = (Math.imul(state, 48271) >>> 0) % 2147483647) / 2147483647 - 0.5) * scale);
    });

  it('sum the squares bit-identically to the JS kernel', () => {
    fc.assert(
      fc.property(longArray, (x) => Object.is(stagedSumOfSquares(x), sumOfSquares(x))),
      { seed: 42, numRuns: 60 },
    );
  });

  it('scale and measure bit-identically to the JS kernel', () => {
    fc.assert(
      fc.property(longArray, fc.double({ min: 1e-3, max: 3, noNaN: true }), (x, factor) => {
        const y = x.slice();
        const a = stagedScaleInPlaceSumOfSquares(x, factor);
        const b = scaleInPlaceSumOfSquares(y, factor);
        expect(Object.is(a, b)).toBe(true);
        expect(bitsOf(x)).toEqual(bitsOf(y));
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  /** `x` copied into a fresh buffer at `shift` floats past a page boundary, so the staging buffer moves too. */
  const shifted = (x: Float32Array, shift: number) => {
    const y = new Float32Array(new ArrayBuffer((x.length + 1024) * 4), shift * 4, x.length);
    y.set(x);
    return y;
  };

  it('sum the squares the fast way (float32 blocks) bit-identically to the JS kernel, wherever the array sits in its page', () => {
    fc.assert(
      fc.property(longArray, fc.nat(1023), (x, shift) => Object.is(stagedBlockSumOfSquares(shifted(x, shift)), blockSumOfSquares(x))),
      { seed: 42, numRuns: 60 },
    );
  });

  it('scale by the float32 factor bit-identically to the JS kernel, wherever the array sits in its page', () => {
    fc.assert(
      fc.property(longArray, fc.nat(1023), fc.double({ min: 1e-35, max: 3, noNaN: true }), (x, shift, factor) => {
        const y = shifted(x, shift);
        stagedScaleInPlace(y, factor);
        scaleInPlace(x, factor);
        expect(bitsOf(y)).toEqual(bitsOf(x));
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('the fast sum is within 4·2⁻²⁴ of the exact one when trusted, and distrusted for huge, tiny and non-finite values', () => {
    fc.assert(
      fc.property(longArray, (x) => {
        const fast = stagedBlockSumOfSquares(x);
        const exact = stagedSumOfSquares(x);
        if (trustedBlockSum(fast, x.length)) expect(Math.abs(fast - exact)).toBeLessThanOrEqual(4 * 2 ** -24 * exact);
        // normSquared is the exact sum wherever the fast one is not trusted
        expect(Object.is(normSquared(x), trustedBlockSum(fast, x.length) ? fast : exact)).toBe(true);
      }),
      { seed: 42, numRuns: 60 },
    );
    const big = new Float32Array(10_000).fill(3e19); // squares overflow float32
    expect(trustedBlockSum(stagedBlockSumOfSquares(big), big.length)).toBe(false);
    expect(normSquared(big)).toBe(stagedSumOfSquares(big));
    const tiny = new Float32Array(10_000).fill(1e-25); // squares below float32's normal range
    expect(trustedBlockSum(stagedBlockSumOfSquares(tiny), tiny.length)).toBe(false);
    expect(Math.sqrt(normSquared(tiny))).toBeCloseTo(1e-25 * 100, 30);
  });

  it('keep NaN and infinity visible', () => {
    const x = new Float32Array(10_000).fill(1);
    x[9_999] = NaN;
    expect(stagedSumOfSquares(x)).toBeNaN();
    x[9_999] = Infinity;
    expect(stagedSumOfSquares(x)).toBe(Infinity);
  });
});

describe('the WASM SIMD clamp', () => {
  // Values around the bounds, NaN with a payload, ±0, ±Infinity and subnormals, at random positions.
  const special = fc.constantFrom(
    NaN,
    0,
    -0,
    Infinity,
    -Infinity,
    1e-45,
    -1e-45,
    0.1,
    -0.1,
    Math.fround(0.1),
    Math.fround(-0.1),
    0.5,
    -0.5,
  );
  const value = fc.oneof(fc.float({ noNaN: false }), special, fc.float({ min: -1, max: 1, noNaN: true }));
  /** Bounds: float32 or not (0.1), zero of either sign, equal, huge. */
  const bound = fc.oneof(fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(0, -0, 0.1, -0.1, 1e39, -1e39, 1e-46));
  const bounds = fc.tuple(bound, bound).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [number, number]);
  const nanWithPayload = new Float32Array(new Uint32Array([0x7fa00001]).buffer)[0]!;

  function fill(target: Float32Array, values: number[], payloadAt: number): void {
    target.set(values);
    if (values.length > 0) target[payloadAt % values.length] = nanWithPayload;
  }

  it('gives the JS kernel’s bits and changed flag, in WebAssembly memory (wasmSimdOps)', () => {
    const memory = wasmMemory(65536);
    const ops = wasmSimdOps(memory)!;
    fc.assert(
      fc.property(fc.array(value, { maxLength: 41 }), bounds, fc.nat(), (values, [min, max], at) => {
        const x = new Float32Array(memory.buffer, 64, values.length);
        fill(x, values, at);
        const reference = x.slice();
        const [, changed] = ops.clamp(x, min, max);
        const expected = clampInPlace(reference, min, max) > 0 ? 1 : 0;
        expect(bitsOf(x)).toEqual(bitsOf(reference));
        expect(changed).toBe(expected);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('gives the JS kernel’s bits and changed flag through the staging buffer (typedArrayOps)', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 8192, maxLength: 9000 }), bounds, fc.nat(), (values, [min, max], at) => {
        const x = new Float32Array(values.length);
        fill(x, values, at);
        const reference = x.slice();
        expect(stagedClampInPlace(x, min, max)).toBe(clampInPlace(reference, min, max) > 0 ? 1 : 0);
        expect(bitsOf(x)).toEqual(bitsOf(reference));
      }),
      { seed: 42, numRuns: 40 },
    );
  });

  it('reports no change, and writes nothing back, when every value is within the bounds', () => {
    const x = Float32Array.from({ length: 10_000 }, (_, i) => Math.sin(i));
    expect(stagedClampInPlace(x, -1, 1)).toBe(0);
    expect(stagedClampInPlace(x, -0.5, 0.5)).toBe(1);
    expect(Math.max(...x)).toBe(0.5);
  });
});
