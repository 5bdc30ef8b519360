import { type FloatArray, type TensorOps, typedArrayOps } from '@gradpipe/core';
// Core's plain JavaScript kernels (not part of its public API): the bench compares them with the WebAssembly
// SIMD kernels that typedArrayOps uses for large arrays.
import { scaleInPlaceSumOfSquares, sumOfSquares } from '@gradpipe/core/internal';

/** typedArrayOps with its L2 passes forced onto the JavaScript kernels, as before WebAssembly SIMD. */
export const jsKernelOps: TensorOps<FloatArray, number> = {
  ...typedArrayOps,
  name: 'typed-array (JS kernels only)',
  norm: (t, p) => (p === 2 ? Math.sqrt(sumOfSquares(t as Float32Array)) : typedArrayOps.norm(t, p)),
  scaleWithNorm(t, factor) {
    if (factor === 1) return [t, Math.sqrt(sumOfSquares(t as Float32Array))];
    return [t, Math.sqrt(scaleInPlaceSumOfSquares(t as Float32Array, factor))];
  },
};
