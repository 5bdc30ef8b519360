/**
 * Global-norm clipping as a user would write it by hand, to show what the pipeline is compared with. Each one
 * measures the L2 norm of all tensors and, above `maxNorm`, scales them in place by `maxNorm / norm`.
 */

type Grads = Record<string, Float32Array>;

function scaleAllInPlace(grads: Grads, factor: number): void {
  for (const g of Object.values(grads)) g.forEach((x, i) => (g[i] = x * factor));
}

/** `Math.hypot` folded over every element: overflow-safe, and the slowest. */
export function clipWithHypot(grads: Grads, maxNorm: number): number {
  let norm = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) norm = Math.hypot(norm, g[i]!);
  if (norm > maxNorm) scaleAllInPlace(grads, maxNorm / norm);
  return norm;
}

/** `reduce` with one accumulator per tensor, then `Math.sqrt`. */
export function clipWithReduce(grads: Grads, maxNorm: number): number {
  const sum = Object.values(grads).reduce((total, g) => total + g.reduce((s, x) => s + x * x, 0), 0);
  const norm = Math.sqrt(sum);
  if (norm > maxNorm) scaleAllInPlace(grads, maxNorm / norm);
  return norm;
}

/** A `for` loop summing `Math.pow(x, 2)`, then `Math.pow(sum, 0.5)`. */
export function clipWithPow(grads: Grads, maxNorm: number): number {
  let sum = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sum += g[i]! ** 2;
  const norm = sum ** 0.5;
  if (norm > maxNorm) for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] = g[i]! * (maxNorm / norm);
  return norm;
}
