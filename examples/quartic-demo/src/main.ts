/**
 * The smallest exploding gradient: gradient descent on f(x) = x⁴/4 (gradient x³) with η = 0.1 from x₀ = 5.
 * Without clipping the iterate overshoots further every step until float32 overflows; clipping the gradient's
 * norm to 1 makes every step at most η long, and x walks down to the minimum at 0.
 */
import { clipByGlobalNorm, GradientPipeline, type StepResult } from '@gradpipe/core';

const eta = 0.1;
const steps = 60;

function run(pipe: GradientPipeline | null): { xs: number[]; diverged: number | null } {
  let x = 5;
  const xs = [x];
  let diverged: number | null = null;
  for (let t = 1; t <= steps; t++) {
    const grad = { x: new Float32Array([x ** 3]) };
    const result: StepResult<Float32Array> | null = pipe ? pipe.step(grad) : null;
    x = Math.fround(x - eta * (result ? result.grads.x![0]! : grad.x[0]!));
    xs.push(x);
    if (!Number.isFinite(x) && diverged === null) diverged = t;
  }
  return { xs, diverged };
}

const plain = run(null);
const clipped = run(new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]));
const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : String(v));
console.log('f(x) = x^4/4, gradient descent, eta 0.1, x0 = 5\n');
console.log('step | no clipping | clipByGlobalNorm(1)');
for (const t of [0, 1, 2, 3, 4, 5, 6, 7, 10, 20, 40, 60]) {
  console.log(`${String(t).padStart(4)} | ${fmt(plain.xs[t]!).padStart(11)} | ${fmt(clipped.xs[t]!).padStart(10)}`);
}
console.log(
  `\nwithout clipping x is non-finite from step ${plain.diverged}; with clipping |x| = ${Math.abs(clipped.xs[steps]!).toPrecision(3)} after ${steps} steps`,
);
