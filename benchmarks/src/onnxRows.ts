import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { adam, mlpModel, OrtTrainer } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { compareAsync } from './measure.js';
import type { Row } from './Row.js';
import { uniformRandom } from './uniformRandom.js';

/** One MLP of the ONNX benchmark. */
export interface OnnxBench {
  label: string;
  sizes: number[];
  batch: number;
  /** Calls per timed block (a block is one repetition), so that short steps are timed over more than a few µs. */
  callsPerBlock: number;
  reps: number;
}

const FORWARD = 'forward only (InferenceSession.run, same batch)';

/**
 * ONNX Runtime through `@gradpipe/onnxruntime`: a training step (`OrtTrainer.step`: gradient graph, the pipeline
 * with clipByGlobalNorm, Adam) and the gradient graph alone, against a forward-only run of the same model; and
 * the step with clipping against the step with an empty pipeline.
 */
export async function onnxRows(benches: readonly OnnxBench[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const bench of benches) {
    const params = bench.sizes.slice(1).reduce((n, out, i) => n + out * (bench.sizes[i]! + 1), 0);
    const group = `ONNX Runtime ${bench.label} (${bench.sizes.join('-')}, ${params.toLocaleString('en')} params, batch ${bench.batch})`;
    const model = mlpModel({ sizes: bench.sizes });
    const [inputs, outputs] = [bench.sizes[0]!, bench.sizes[bench.sizes.length - 1]!];
    const random = uniformRandom(7);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: bench.batch * inputs }, () => random() * 2 - 1),
      [bench.batch, inputs],
    );
    const y = new ort.Tensor(
      'float32',
      Float32Array.from({ length: bench.batch * outputs }, () => random()),
      [bench.batch, outputs],
    );

    const forward = await ort.InferenceSession.create(model);
    // A small lr keeps thousands of steps on one batch finite; the work per step does not depend on it.
    const clipped = await OrtTrainer.create(model, {
      loss: 'mse',
      optimizer: adam({ lr: 1e-5 }),
      pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
    });
    const unclipped = await OrtTrainer.create(model, { loss: 'mse', optimizer: adam({ lr: 1e-5 }), pipeline: new GradientPipeline([]) });
    const block = (fn: () => Promise<unknown>) => async () => {
      for (let i = 0; i < bench.callsPerBlock; i++) await fn();
    };
    const runForward = block(() => forward.run({ input: x }));
    const options = { reps: bench.reps, warmup: 2 };
    rows.push({
      group,
      name: 'training step: OrtTrainer.step with clipByGlobalNorm + Adam',
      baseline: FORWARD,
      ...(await compareAsync({ baseline: runForward, candidate: block(() => clipped.step({ input: x }, y)), ...options })),
    });
    rows.push({
      group,
      name: 'gradient graph alone: OrtTrainer.gradients',
      baseline: FORWARD,
      ...(await compareAsync({ baseline: runForward, candidate: block(() => clipped.gradients({ input: x }, y)), ...options })),
    });
    rows.push({
      group,
      name: 'step with clipByGlobalNorm vs step with an empty pipeline',
      baseline: 'OrtTrainer.step, empty pipeline',
      ...(await compareAsync({
        baseline: block(() => unclipped.step({ input: x }, y)),
        candidate: block(() => clipped.step({ input: x }, y)),
        ...options,
      })),
    });
    await clipped.release();
    await unclipped.release();
    await forward.release();
  }
  return rows;
}
