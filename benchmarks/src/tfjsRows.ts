import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend
import { withClipping } from '@gradpipe/tfjs';
import { compareAsync } from './measure.js';
import type { Row } from './Row.js';

/** Sizes of the tfjs benchmark. */
export interface TfjsBench {
  /** Number of variables, each `[rows, cols]`. */
  variables: number;
  rows: number;
  cols: number;
  /** Rows of the fixed input multiplied into every variable. */
  batch: number;
  reps: number;
}

const BARE = 'bare tf.train.adam step (optimizer.minimize)';

/**
 * One `tf.train.adam` training step — bare, wrapped by `withClipping({ globalClipnorm: 1 })`, and with the
 * clipping a user would write by hand (`tf.norm` per variable, then scale) — on the cpu and wasm backends.
 * The loss multiplies a fixed input into every variable, so a step has a forward and a backward pass as well as
 * the optimizer's update.
 */
export async function tfjsRows(bench: TfjsBench): Promise<Row[]> {
  const params = bench.variables * bench.rows * bench.cols;
  const rows: Row[] = [];

  for (const backend of ['cpu', 'wasm'] as const) {
    const group = `tfjs ${backend}, Adam on ${(params / 1e6).toFixed(1)}M params / ${bench.variables} variables`;
    if (!(await tf.setBackend(backend))) {
      rows.push({ group, name: `${backend} backend`, baseline: BARE, note: 'tf.setBackend failed' });
      continue;
    }
    await tf.ready();
    const tensorsAtStart = tf.memory().numTensors;

    // Every optimizer gets its own copy of the variables, so their Adam states and weights evolve alike.
    const makeModel = () => {
      // Inside tidy, so that the initial values are disposed; variables survive it.
      const vars = Array.from({ length: bench.variables }, (_, i) =>
        tf.tidy(() => tf.variable(tf.randomNormal([bench.rows, bench.cols], 0, 0.05, 'float32', i + 1), true, `${backend}_w${i}_${Math.random()}`)),
      );
      const inputs = Array.from({ length: bench.variables }, (_, i) => tf.randomNormal([bench.batch, bench.rows], 0, 1, 'float32', 100 + i));
      const loss = () => tf.addN(vars.map((v, i) => tf.mean(tf.square(tf.matMul(inputs[i]!, v))))) as tf.Scalar;
      return { vars, inputs, loss, dispose: () => tf.dispose([...vars, ...inputs]) };
    };

    const bare = makeModel();
    const bareOptimizer = tf.train.adam(1e-3);
    const bareStep = async () => {
      bareOptimizer.minimize(bare.loss);
      await tf.nextFrame(); // let the backend finish; cpu and wasm are synchronous, so this is a yield only
    };

    const naive = makeModel();
    const naiveOptimizer = tf.train.adam(1e-3);
    const naiveStep = async () => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(naive.loss);
        // What users write: the norm of each gradient, the global norm, one scale for all.
        const norms = Object.values(grads).map((g) => tf.norm(g));
        const global = tf.sqrt(tf.addN(norms.map((n) => tf.square(n))));
        const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(1), global));
        const clipped = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)]));
        naiveOptimizer.applyGradients(clipped as unknown as Parameters<typeof naiveOptimizer.applyGradients>[0]);
      });
      await tf.nextFrame();
    };

    const reps = bench.reps;
    rows.push({ group, name: 'naive clipping: tf.norm per variable, then scale', baseline: BARE, ...(await compareAsync({ baseline: bareStep, candidate: naiveStep, reps })) });

    const wrapped = makeModel();
    const wrappedOptimizer = withClipping(tf.train.adam(1e-3), { globalClipnorm: 1 });
    const wrappedStep = async () => {
      wrappedOptimizer.minimize(wrapped.loss);
      await tf.nextFrame();
    };
    rows.push({ group, name: 'withClipping(adam, { globalClipnorm: 1 })', baseline: BARE, target: 1.1, ...(await compareAsync({ baseline: bareStep, candidate: wrappedStep, reps })) });
    wrappedOptimizer.dispose();
    wrapped.dispose();

    bareOptimizer.dispose();
    naiveOptimizer.dispose();
    bare.dispose();
    naive.dispose();
    const leaked = tf.memory().numTensors - tensorsAtStart;
    if (leaked !== 0) rows[rows.length - 1]!.note = `${leaked} tensors left behind after the ${backend} rows`;
  }
  return rows;
}
