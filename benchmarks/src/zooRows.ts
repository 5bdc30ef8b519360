import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { adam, OrtTrainer } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { compareAsync } from './measure.js';
import type { Row } from './Row.js';
import { uniformRandom } from './uniformRandom.js';

const { onnx } = onnxProto;

/** The zoo models timed (the PyTorch exports of the onnxruntime adapter's tests). */
const ZOO: { name: string; loss: 'mse' | 'crossEntropy' }[] = [
  { name: 'lenet', loss: 'crossEntropy' },
  { name: 'lenet_batchnorm_train', loss: 'crossEntropy' },
  { name: 'resnet_block_train', loss: 'crossEntropy' },
  { name: 'lstm_rows', loss: 'crossEntropy' },
  { name: 'gru_state', loss: 'crossEntropy' },
  { name: 'bilstm_rows', loss: 'crossEntropy' },
  { name: 'rnn_tanh_2layers', loss: 'crossEntropy' },
  { name: 'layernorm_mlp_train', loss: 'mse' },
  { name: 'embedding_mean', loss: 'crossEntropy' },
  { name: 'transformer_train', loss: 'mse' },
  { name: 'conv1d_sequence', loss: 'crossEntropy' },
];

const FORWARD = 'forward only (InferenceSession.run of the model, same batch)';
const zooFile = (file: string) => fileURLToPath(new URL(`../../adapters/onnxruntime/test/fixtures/zoo/${file}`, import.meta.url));

/** A batch shaped like the fixture's (batch axis replaced), and a target for the loss. */
function batchFor(name: string, batch: number, classes: number, outputs: number) {
  const fixture = JSON.parse(readFileSync(zooFile(`${name}.json`), 'utf8')) as { inputs: { input: { dims: number[]; type?: string } } };
  const dims = [batch, ...fixture.inputs.input.dims.slice(1)];
  const size = dims.reduce((a, b) => a * b, 1);
  const random = uniformRandom(3);
  const input =
    fixture.inputs.input.type === 'int64'
      ? new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: size }, () => BigInt(Math.floor(random() * 30))),
          dims,
        )
      : new ort.Tensor(
          'float32',
          Float32Array.from({ length: size }, () => random() * 2 - 1),
          dims,
        );
  const labels = new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: batch }, () => BigInt(Math.floor(random() * classes))),
    [batch],
  );
  const values = new ort.Tensor(
    'float32',
    Float32Array.from({ length: batch * outputs }, () => random()),
    [batch, outputs],
  );
  return { input, labels, values };
}

/** An ONNX LSTM over T steps (layout [T, B, I]) with a linear read-out of the last state, for the length rows. */
function lstmModel(steps: number, inputSize: number, hidden: number): Uint8Array {
  const random = uniformRandom(11);
  const tensor = (name: string, dims: number[], scale: number) => {
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (random() * 2 - 1) * scale);
    return onnx.TensorProto.create({ name, dims, dataType: 1, rawData: new Uint8Array(data.buffer) });
  };
  const k = 1 / Math.sqrt(hidden);
  const graph = onnx.GraphProto.create({
    name: 'lstm_length',
    node: [
      onnx.NodeProto.create({
        opType: 'LSTM',
        name: 'lstm',
        input: ['input', 'W', 'R', 'B'],
        output: ['', 'last'],
        attribute: [{ name: 'hidden_size', type: 2, i: hidden }],
      }),
      onnx.NodeProto.create({ opType: 'Squeeze', name: 'squeeze', input: ['last', 'axis0'], output: ['h'] }),
      onnx.NodeProto.create({
        opType: 'Gemm',
        name: 'fc',
        input: ['h', 'fcW', 'fcB'],
        output: ['output'],
        attribute: [{ name: 'transB', type: 2, i: 1 }],
      }),
    ],
    initializer: [
      tensor('W', [1, 4 * hidden, inputSize], k),
      tensor('R', [1, 4 * hidden, hidden], k),
      tensor('B', [1, 8 * hidden], k),
      tensor('fcW', [10, hidden], k),
      tensor('fcB', [10], k),
      onnx.TensorProto.create({ name: 'axis0', dims: [1], dataType: 7, int64Data: [0] }),
    ],
    input: [
      {
        name: 'input',
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: steps }, { dimParam: 'batch' }, { dimValue: inputSize }] } } },
      },
    ],
    output: [{ name: 'output', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 10 }] } } } }],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 14 }] })).finish();
}

async function stepRow(
  group: string,
  name: string,
  model: Uint8Array,
  loss: 'mse' | 'crossEntropy',
  feeds: Record<string, ort.Tensor>,
  target: ort.Tensor,
  reps: number,
): Promise<Row> {
  const forward = await ort.InferenceSession.create(model);
  // A small lr keeps many steps on one batch finite; the work per step does not depend on it.
  const trainer = await OrtTrainer.create(model, {
    loss,
    optimizer: adam({ lr: 1e-5 }),
    pipeline: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
  });
  const comparison = await compareAsync({
    baseline: () => forward.run(feeds),
    candidate: () => trainer.step(feeds, target),
    reps,
    warmup: 2,
  });
  await Promise.all([forward.release(), trainer.release()]);
  return { group, name, baseline: FORWARD, ...comparison };
}

/**
 * The zoo's PyTorch exports: one training step (gradient graph, clipByGlobalNorm, Adam; batch 32) against a
 * forward-only run of the same model; and what a recurrent layer's sequence length costs.
 */
export async function zooRows(options: { batch: number; reps: number; lengths: number[] }): Promise<Row[]> {
  const rows: Row[] = [];
  const group = `ONNX Runtime zoo (PyTorch 1.13 exports, batch ${options.batch})`;
  for (const { name, loss } of ZOO) {
    const model = new Uint8Array(readFileSync(zooFile(`${name}.onnx`)));
    const outputs = name.startsWith('transformer') || name.startsWith('layernorm') ? 3 : 10;
    const { input, labels, values } = batchFor(
      name,
      options.batch,
      name === 'embedding_mean' ? 4 : name === 'resnet_block_train' ? 3 : name === 'conv1d_sequence' ? 2 : 10,
      outputs,
    );
    rows.push(await stepRow(group, `${name}: OrtTrainer.step`, model, loss, { input }, loss === 'mse' ? values : labels, options.reps));
  }
  const lengthGroup = `ONNX Runtime LSTM(28 → 64) by sequence length, batch ${options.batch}`;
  for (const steps of options.lengths) {
    const random = uniformRandom(5);
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: steps * options.batch * 28 }, () => random() * 2 - 1),
      [steps, options.batch, 28],
    );
    const labels = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: options.batch }, (_, i) => BigInt(i % 10)),
      [options.batch],
    );
    rows.push(
      await stepRow(
        lengthGroup,
        `${steps} time steps: OrtTrainer.step`,
        lstmModel(steps, 28, 64),
        'crossEntropy',
        { input },
        labels,
        options.reps,
      ),
    );
  }
  return rows;
}
