import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend
import type { Row } from './Row.js';
import { type BackendRow, measureBackend, type TfjsBench } from './tfjsStep.js';

export type { TfjsBench } from './tfjsStep.js';

export const BARE = 'bare tf.train.adam step (optimizer.minimize)';
const HAND_WRITTEN = 'hand-written clipping';
const WRAPPED = 'withClipping(adam, { globalClipnorm: 1 })';

/**
 * The rows of one backend, with the targets of issue 11: on cpu and wasm the wrapped step within 1.10 of the bare
 * one; on webgl and webgpu within 1.15 × what clipping written by hand costs there (same run).
 */
export function rowsOf(group: string, backend: string, measured: readonly BackendRow[], leaked: number): Row[] {
  const handWritten = measured.find((r) => r.name.startsWith(HAND_WRITTEN));
  const gpu = backend === 'webgl' || backend === 'webgpu';
  const rows: Row[] = measured.map(({ name, ratio, baselineMs, candidateMs, reps, kernels }) => ({
    group,
    name,
    baseline: BARE,
    ratio,
    baselineMs,
    candidateMs,
    reps,
    kernels,
    ...(name === WRAPPED ? { target: gpu ? 1.15 * handWritten!.ratio : 1.1 } : {}),
    ...(name === WRAPPED && gpu ? { note: `target = 1.15 × the hand-written ratio ${handWritten!.ratio.toFixed(3)}` } : {}),
  }));
  if (leaked !== 0) rows[rows.length - 1]!.note = `${leaked} tensors left behind after the ${backend} rows`;
  return rows;
}

/**
 * A `tf.train.adam` training step — bare, wrapped by gradpipe, and with the clipping a user would write by hand —
 * on the cpu and wasm backends in Node (the page runs the same steps on webgl and webgpu: browserRows.ts).
 */
export async function tfjsRows(bench: TfjsBench): Promise<Row[]> {
  const params = bench.variables * bench.rows * bench.cols;
  const rows: Row[] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    const group = `tfjs ${backend} (Node), Adam on ${(params / 1e6).toFixed(1)}M params / ${bench.variables} variables`;
    if (!(await tf.setBackend(backend))) {
      rows.push({ group, name: `${backend} backend`, baseline: BARE, note: 'tf.setBackend failed' });
      continue;
    }
    await tf.ready();
    const { rows: measured, leaked } = await measureBackend(bench, backend);
    rows.push(...rowsOf(group, backend, measured, leaked));
  }
  return rows;
}
