// The tfjs training steps the benchmark compares, for Node (tfjsRows.ts) and for the page (benchmarks/browser/),
// so both time the very same code. No Node API here: timing uses performance.now(), available in both.

import { clipByGlobalNorm, GradientPipeline, nanGuard } from '@gradpipe/core';
import { type GradientPipelineOptimizer, type Readback, withClipping, withGradientPipeline } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';

/** Sizes of the tfjs benchmark. */
export interface TfjsBench {
  /** Number of variables, each `[rows, cols]`. */
  variables: number;
  rows: number;
  cols: number;
  /** Rows of the fixed input multiplied into every variable. */
  batch: number;
  /** Timed pairs (after two untimed ones). */
  reps: number;
  /** Steps per timed block: a block ends when the device has finished them (one read). */
  stepsPerBlock: number;
}

/** One training setup: its own copy of the variables and an optimizer, stepping by `step()`. */
export interface Trainer {
  /** One training step (forward, backward, optimizer update), queued on the backend. */
  step(): void;
  /** Resolves when the backend has finished every step so far and their figures are on the host. */
  finish(): Promise<void>;
  dispose(): void;
}

/** A candidate step, measured against the bare Adam step. */
export interface Variant {
  name: string;
  make(): Trainer;
}

/** The same model for every setup: `bench.variables` weights, each multiplied by a fixed input, MSE-like loss. */
function makeModel(bench: TfjsBench) {
  const tag = Math.random().toString(36).slice(2);
  const vars = Array.from({ length: bench.variables }, (_, i) =>
    tf.tidy(() => tf.variable(tf.randomNormal([bench.rows, bench.cols], 0, 0.05, 'float32', i + 1), true, `bench_w${i}_${tag}`)),
  );
  const inputs = Array.from({ length: bench.variables }, (_, i) => tf.randomNormal([bench.batch, bench.rows], 0, 1, 'float32', 100 + i));
  const loss = () => tf.addN(vars.map((v, i) => tf.mean(tf.square(tf.matMul(inputs[i]!, v))))) as tf.Scalar;
  // Reading one weight waits for every step queued before it (each step writes all of them).
  const finish = async () => {
    await vars[0]!.data();
  };
  return { vars, loss, finish, dispose: () => tf.dispose([...vars, ...inputs]) };
}

/** The bare `tf.train.adam` step: `optimizer.minimize(loss)`. */
export function bareAdam(bench: TfjsBench): Trainer {
  const model = makeModel(bench);
  const optimizer = tf.train.adam(1e-3);
  return {
    step: () => optimizer.minimize(model.loss),
    finish: model.finish,
    dispose: () => (optimizer.dispose(), model.dispose()),
  };
}

/** Clipping as a user writes it by hand: Σg² per variable, the global norm, one scale for all (no read-back). */
export function handWritten(bench: TfjsBench): Trainer {
  const model = makeModel(bench);
  const optimizer = tf.train.adam(1e-3);
  return {
    step: () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(model.loss);
        const global = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
        const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(1), global));
        const clipped: tf.NamedTensorMap = {};
        for (const [k, g] of Object.entries(grads)) clipped[k] = tf.mul(g, scale);
        optimizer.applyGradients(clipped as unknown as Parameters<typeof optimizer.applyGradients>[0]);
      }),
    finish: model.finish,
    dispose: () => (optimizer.dispose(), model.dispose()),
  };
}

/** A wrapped Adam step; `finish` also waits for the step's figures (`optimizer.settled()`). */
export function wrapped(bench: TfjsBench, make: (adam: tf.Optimizer) => GradientPipelineOptimizer): Trainer {
  const model = makeModel(bench);
  const optimizer = make(tf.train.adam(1e-3));
  return {
    step: () => optimizer.minimize(model.loss),
    finish: async () => {
      await model.finish();
      await optimizer.settled();
    },
    dispose: () => (optimizer.dispose(), model.dispose()),
  };
}

/** The candidates of every backend; `readback` forces the synchronous mode for comparison. */
export function variants(bench: TfjsBench, backend: string): Variant[] {
  const gpu = backend === 'webgl' || backend === 'webgpu';
  const list: Variant[] = [
    { name: 'hand-written clipping: Σg² per variable, then scale', make: () => handWritten(bench) },
    { name: 'withClipping(adam, { globalClipnorm: 1 })', make: () => wrapped(bench, (adam) => withClipping(adam, { globalClipnorm: 1 })) },
    {
      name: 'withGradientPipeline(adam, [nanGuard(), clipByGlobalNorm({ maxNorm: 1 })])',
      make: () =>
        wrapped(bench, (adam) => withGradientPipeline(adam, new GradientPipeline([nanGuard(), clipByGlobalNorm({ maxNorm: 1 })]))),
    },
  ];
  // (Not on webgpu, whose steps take seconds on SwiftShader: the rows that matter first.)
  if (backend !== 'webgpu')
    list.push({ name: 'withClipping(adam, { clipnorm: 1 })', make: () => wrapped(bench, (adam) => withClipping(adam, { clipnorm: 1 })) });
  // The other read-back mode, to show what it costs (webgpu has no synchronous read).
  const other: Readback | undefined = backend === 'webgl' ? 'sync' : gpu ? undefined : 'deferred';
  if (other) {
    list.push({
      name: `withClipping(adam, { globalClipnorm: 1, readback: '${other}' })`,
      make: () => wrapped(bench, (adam) => withClipping(adam, { globalClipnorm: 1, readback: other })),
    });
  }
  return list;
}

/** Kernels one step launches (tf.profile), after a first step that created the optimizer's slots. */
export async function kernelsPerStep(trainer: Trainer): Promise<number> {
  const info = await tf.profile(() => trainer.step());
  await trainer.finish();
  return info.kernels.length;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds per step of a block of `steps` steps, the device finished. */
async function blockMs(trainer: Trainer, steps: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < steps; i++) trainer.step();
  await trainer.finish();
  return (performance.now() - start) / steps;
}

/** What {@link comparePairs} measured: medians of the per-pair ratios and of each side's times. */
export interface PairedTimes {
  ratio: number;
  baselineMs: number;
  candidateMs: number;
  reps: number;
}

/**
 * Times blocks of the baseline and the candidate back to back, `reps` times (which goes first alternates), and
 * returns the median of the per-pair ratios: a slow moment of a shared machine hits both halves of a pair.
 */
export async function comparePairs(baseline: Trainer, candidate: Trainer, bench: TfjsBench): Promise<PairedTimes> {
  for (let w = 0; w < 2; w++) {
    await blockMs(baseline, bench.stepsPerBlock);
    await blockMs(candidate, bench.stepsPerBlock);
  }
  const pairs: [number, number][] = [];
  for (let r = 0; r < bench.reps; r++) {
    if (r % 2 === 0) {
      const b = await blockMs(baseline, bench.stepsPerBlock);
      pairs.push([b, await blockMs(candidate, bench.stepsPerBlock)]);
    } else {
      const c = await blockMs(candidate, bench.stepsPerBlock);
      pairs.push([await blockMs(baseline, bench.stepsPerBlock), c]);
    }
  }
  return {
    ratio: median(pairs.map(([b, c]) => c / b)),
    baselineMs: median(pairs.map(([b]) => b)),
    candidateMs: median(pairs.map(([, c]) => c)),
    reps: pairs.length,
  };
}

/** One measured candidate of one backend. */
export interface BackendRow {
  name: string;
  ratio: number;
  baselineMs: number;
  candidateMs: number;
  reps: number;
  kernels: { baseline: number; candidate: number };
}

/** Every variant against the bare step on the active backend; tensors left behind are reported, not hidden. */
export async function measureBackend(bench: TfjsBench, backend: string): Promise<{ rows: BackendRow[]; leaked: number }> {
  const tensorsAtStart = tf.memory().numTensors;
  const bare = bareAdam(bench);
  bare.step(); // Adam's slots
  await bare.finish();
  const bareKernels = await kernelsPerStep(bare);
  const rows: BackendRow[] = [];
  for (const variant of variants(bench, backend)) {
    const candidate = variant.make();
    candidate.step();
    await candidate.finish();
    const kernels = await kernelsPerStep(candidate);
    rows.push({
      name: variant.name,
      ...(await comparePairs(bare, candidate, bench)),
      kernels: { baseline: bareKernels, candidate: kernels },
    });
    candidate.dispose();
  }
  bare.dispose();
  return { rows, leaked: tf.memory().numTensors - tensorsAtStart };
}
