// The optimizers' WebAssembly kernels: the SIMD lanes and the scalar tail compute the same float32 operations (a
// parameter of 4k + 3 values exercises both). That the committed bytes are the text's is tests/wasmModules.test.ts.

import { adam, sgd } from '@gradpipe/onnxruntime';
import { expect, test } from 'vitest';

test.each([
  ['adam', () => adam({ lr: 0.01, weightDecay: 0.1 })],
  ['sgd', () => sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
])('%s: every element updated as one float32 element alone would be (lanes and tail agree)', (_name, make) => {
  const n = 4 * 5 + 3;
  const p = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
  const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.3));
  const together = make();
  const params = { w: p.slice() };
  for (let s = 0; s < 3; s++) together.update(params, { w: g });
  for (let i = 0; i < n; i++) {
    const alone = make();
    const one = { w: Float32Array.of(p[i]!) };
    for (let s = 0; s < 3; s++) alone.update(one, { w: Float32Array.of(g[i]!) });
    expect(one.w[0], `element ${i}`).toBe(params.w[i]);
  }
});
