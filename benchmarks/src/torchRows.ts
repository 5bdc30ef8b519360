import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { adam, mlpModel, OrtTrainer } from '@gradpipe/onnxruntime';
import * as ort from 'onnxruntime-node';
import { median } from './measure.js';
import type { Row } from './Row.js';
import { uniformRandom } from './uniformRandom.js';

/** One PyTorch step's times, as benchmarks/scripts/torch_steps.py --serve answers. */
interface TorchTimes {
  stepMs: number;
  forwardBackwardMs: number;
  updateMs: number;
}

const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('../scripts/torch_steps.py', import.meta.url));
const zoo = (name: string) =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../../adapters/onnxruntime/test/fixtures/zoo/${name}.onnx`, import.meta.url))));

/** PyTorch in a child process that takes one step per request; undefined (with the reason) when torch is missing. */
async function torchServer(): Promise<
  { version: string; step: (model: string, threads: number) => Promise<TorchTimes>; close: () => void } | string
> {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch): PyTorch rows skipped`;
  }
  const child = spawn(PYTHON, [script, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as unknown;
  const hello = (await next()) as { torch: string };
  return {
    version: hello.torch,
    step: async (model, threads) => {
      child.stdin.write(`${model} ${threads}\n`);
      return (await next()) as TorchTimes;
    },
    close: () => child.stdin.end(),
  };
}

/** The same models as torch_steps.py, as ONNX, with a batch and a target. */
function models(random: () => number) {
  const floats = (dims: number[]) =>
    new ort.Tensor(
      'float32',
      Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
      dims,
    );
  const labels = (n: number) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10)),
      [n],
    );
  return {
    mlp: {
      label: 'MLP 256-1024-1024-10 (1.33M params), batch 128, MSE',
      model: mlpModel({ sizes: [256, 1024, 1024, 10] }),
      loss: 'mse' as const,
      input: floats([128, 256]),
      target: new ort.Tensor('float32', Float32Array.from({ length: 1280 }, random), [128, 10]),
    },
    lenet: {
      label: 'LeNet CNN (the zoo), batch 32, cross-entropy',
      model: zoo('lenet'),
      loss: 'crossEntropy' as const,
      input: floats([32, 1, 28, 28]),
      target: labels(32),
    },
    lstm: {
      label: "the article's LSTM over 28 rows (the zoo's, hidden 16), batch 32",
      model: zoo('lstm_rows'),
      loss: 'crossEntropy' as const,
      input: floats([32, 28, 28]),
      target: labels(32),
    },
  };
}

/**
 * OrtTrainer against PyTorch 1.13 on the same models (benchmarks/scripts/torch_steps.py in a child process): a
 * training step — gradients, clip_grad_norm_(1.0) / clipByGlobalNorm(1), Adam — and its parts, on one thread each
 * (`intraOpNumThreads: 1`, `torch.set_num_threads(1)`) and with each library's default threads. The two sides
 * alternate step by step, so each ratio is the median of pairs taken on the same machine state.
 */
export async function torchRows(options: { reps: number }): Promise<Row[]> {
  const torch = await torchServer();
  const rows: Row[] = [];
  try {
    for (const [key, m] of Object.entries(models(uniformRandom(21)))) {
      for (const threads of [1, 0]) {
        const group = `ONNX Runtime vs PyTorch: ${m.label}, ${threads === 1 ? 'one thread each' : 'default threads'}`;
        const sessionOptions = threads === 1 ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : {};
        const trainer = await OrtTrainer.create(m.model, {
          loss: m.loss,
          optimizer: adam({ lr: 1e-5 }),
          pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
          sessionOptions,
        });
        const feeds = { input: m.input };
        const params = trainer.parameters(); // copies: the update below does a step's work without moving the trainer
        const ours = async () => {
          let t0 = performance.now();
          await trainer.step(feeds, m.target);
          const step = performance.now() - t0;
          t0 = performance.now();
          const { grads } = await trainer.gradients(feeds, m.target);
          const graph = performance.now() - t0;
          t0 = performance.now();
          const { grads: clipped } = trainer.pipeline.step(grads, { params, shapes: trainer.signature.shapes });
          trainer.optimizer.update(params, clipped);
          return { step, graph, update: performance.now() - t0 };
        };
        for (let i = 0; i < 3; i++) await ours();
        if (typeof torch === 'string') {
          rows.push({ group, name: `${key}: OrtTrainer.step`, baseline: 'PyTorch step', note: torch });
          await trainer.release();
          continue;
        }
        for (let i = 0; i < 2; i++) await torch.step(key, threads);
        const pairs: { ours: { step: number; graph: number; update: number }; torch: TorchTimes }[] = [];
        for (let r = 0; r < options.reps; r++) pairs.push({ ours: await ours(), torch: await torch.step(key, threads) });
        await trainer.release();
        const row = (
          name: string,
          part: 'step' | 'graph' | 'update',
          theirs: keyof TorchTimes,
          baseline: string,
          target?: number,
        ): Row => ({
          group,
          name,
          baseline,
          ratio: median(pairs.map((p) => p.ours[part] / p.torch[theirs])),
          candidateMs: median(pairs.map((p) => p.ours[part])),
          baselineMs: median(pairs.map((p) => p.torch[theirs])),
          reps: options.reps,
          ...(target ? { target } : {}),
        });
        rows.push(
          row(
            `${key}: training step (OrtTrainer.step)`,
            'step',
            'stepMs',
            `PyTorch ${torch.version} step (forward, backward, clip_grad_norm_, Adam)`,
            1.2,
          ),
        );
        rows.push(row(`${key}: gradient graph (OrtTrainer.gradients)`, 'graph', 'forwardBackwardMs', 'PyTorch forward + backward'));
        rows.push(row(`${key}: clip + Adam update (pipeline + optimizer)`, 'update', 'updateMs', 'PyTorch clip_grad_norm_ + Adam.step'));
      }
    }
  } finally {
    if (typeof torch !== 'string') torch.close();
  }
  return rows;
}
