// Models whose output cannot take a loss: an int64, bool or float64 output (chosen by default, by `output`, or
// as a model-computed loss) is refused when the trainer is created, with a gradpipe error that says which output
// and why — not ONNX Runtime's type error from inside the appended loss graph.

import { buildTrainingModel, OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import { describe, expect, test } from 'vitest';
import { floats, labels, refusal } from './support.js';

const { onnx } = onnxProto;
const TYPES = { float32: 1, int64: 7, bool: 9, float64: 11 } as const;

/**
 * input [batch, 3] → + P → `logits` (float32) → Cast → `cast` of the given type; `first` picks which output comes
 * first (the default loss input). `declare: false` leaves the outputs' types to shape inference.
 */
function castModel(type: keyof typeof TYPES, first: 'cast' | 'logits', declare = true): Uint8Array {
  const info = (name: string, elemType: number) => ({
    name,
    type: { tensorType: { ...(declare ? { elemType } : {}), shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }] } } },
  });
  const outputs = { cast: info('cast', TYPES[type]), logits: info('logits', 1) };
  const graph = onnx.GraphProto.create({
    name: 'cast',
    node: [
      onnx.NodeProto.create({ opType: 'Add', name: 'add', input: ['input', 'P'], output: ['logits'] }),
      onnx.NodeProto.create({
        opType: 'Cast',
        name: 'cast',
        input: ['logits'],
        output: ['cast'],
        attribute: [{ name: 'to', type: 2, i: TYPES[type] }],
      }),
    ],
    initializer: [onnx.TensorProto.create({ name: 'P', dims: [3], dataType: 1, floatData: [0.1, 0.2, 0.3] })],
    input: [info('input', 1)],
    output: first === 'cast' ? [outputs.cast, outputs.logits] : [outputs.logits, outputs.cast],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 17 }] })).finish();
}

describe('a loss on a non-float32 output is refused at create', () => {
  test.each([
    ['int64', 'mse'],
    ['int64', 'crossEntropy'],
    ['bool', 'bceWithLogits'],
    ['float64', 'huber'],
  ] as const)('%s output, loss %s', async (type, loss) => {
    const error = await refusal(() => OrtTrainer.create(castModel(type, 'cast'), { loss, optimizer: sgd({ lr: 0.1 }) }));
    expect(error.message).toBe(
      `OrtTrainer.create: the loss is computed on the output "cast", which is ${type}: it needs a float32 output (choose one with the output option)`,
    );
  });

  test('also when the model does not declare the type (shape inference knows the Cast), and from buildTrainingModel', async () => {
    const error = await refusal(() => OrtTrainer.create(castModel('int64', 'cast', false), { loss: 'mse', optimizer: sgd({ lr: 0.1 }) }));
    expect(error.message).toMatch(/^OrtTrainer\.create: the loss is computed on the output "cast", which is int64/);
    expect(() => buildTrainingModel(castModel('int64', 'cast'), { loss: 'crossEntropy', output: 'cast' })).toThrow(
      'buildTrainingModel: the loss is computed on the output "cast", which is int64',
    );
  });

  test('a model-computed loss must be float32', async () => {
    // a scalar int64 "loss": ReduceSum of the cast output
    const graph = onnx.GraphProto.create({
      name: 'int-loss',
      node: [
        onnx.NodeProto.create({ opType: 'Add', name: 'add', input: ['input', 'P'], output: ['logits'] }),
        onnx.NodeProto.create({
          opType: 'ReduceSum',
          name: 'sum',
          input: ['logits'],
          output: ['total'],
          attribute: [{ name: 'keepdims', type: 2, i: 0 }],
        }),
        onnx.NodeProto.create({
          opType: 'Cast',
          name: 'cast',
          input: ['total'],
          output: ['loss'],
          attribute: [{ name: 'to', type: 2, i: TYPES.int64 }],
        }),
      ],
      initializer: [onnx.TensorProto.create({ name: 'P', dims: [3], dataType: 1, floatData: [0.1, 0.2, 0.3] })],
      input: [{ name: 'input', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } } } }],
      output: [{ name: 'loss', type: { tensorType: { elemType: TYPES.int64, shape: { dim: [] } } } }],
    });
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: 17 }] }),
    ).finish();
    const error = await refusal(() => OrtTrainer.create(bytes, { loss: { output: 'loss' }, optimizer: sgd({ lr: 0.1 }) }));
    expect(error.message).toBe('OrtTrainer.create: loss.output "loss" is int64: a model-computed loss must be a float32 scalar');
  });

  test('the float32 output of the same model, chosen with output, trains', async () => {
    const trainer = await OrtTrainer.create(castModel('int64', 'cast'), {
      loss: 'crossEntropy',
      output: 'logits',
      optimizer: sgd({ lr: 0.1 }),
    });
    expect((await trainer.step({ input: floats(2, 3) }, labels(0, 2))).applied).toBe(true);
    await trainer.release();
  });
});
