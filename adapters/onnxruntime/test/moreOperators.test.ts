import { OrtTrainer, sgd } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { describe, expect, test } from 'vitest';

const { onnx } = onnxProto;

// Operators the fixtures do not reach — Unsqueeze/Squeeze (attribute and input forms), broadcasting of both
// operands at once ([n,1,4] · [2,1]), Neg, Exp, Log, Reshape with 0 and -1 — checked against central differences
// of a float64 forward written out below.
//   h = x·W  [n,4]  →  Unsqueeze 0 → Squeeze 0 → Unsqueeze 1  [n,1,4]  →  · p [2,1]  →  [n,2,4]
//   → Neg → Exp → + c [4] → Log → Reshape [0, -1]  →  output [n,8];   loss = MSE(output, t)
function model(opset: number): Uint8Array {
  const axes = (name: string, values: number[]) =>
    opset >= 13
      ? { inputs: [onnx.TensorProto.create({ name, dims: [values.length], dataType: 7, int64Data: values })], attribute: [] }
      : { inputs: [], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: values }] };
  const a0 = axes('axes0', [0]);
  const a1 = axes('axes1', [1]);
  const node = (opType: string, input: string[], output: string, attribute: object[] = []) =>
    onnx.NodeProto.create({ opType, name: output, input, output: [output], attribute });
  const withAxes = (opType: string, x: string, out: string, a: typeof a0, name: string) =>
    opset >= 13 ? node(opType, [x, name], out) : node(opType, [x], out, a.attribute);
  const graph = onnx.GraphProto.create({
    name: 'more_ops',
    node: [
      node('MatMul', ['input', 'W'], 'h'),
      withAxes('Unsqueeze', 'h', 'u0', a0, 'axes0'),
      withAxes('Squeeze', 'u0', 's0', a0, 'axes0'),
      withAxes('Unsqueeze', 's0', 'u1', a1, 'axes1'),
      node('Mul', ['u1', 'p'], 'm'),
      node('Neg', ['m'], 'n'),
      node('Exp', ['n'], 'e'),
      node('Add', ['e', 'c'], 'a'),
      node('Log', ['a'], 'l'),
      node('Reshape', ['l', 'shape'], 'output'),
    ],
    initializer: [
      onnx.TensorProto.create({ name: 'W', dims: [3, 4], dataType: 1, floatData: W }),
      onnx.TensorProto.create({ name: 'p', dims: [2, 1], dataType: 1, floatData: P }),
      onnx.TensorProto.create({ name: 'c', dims: [4], dataType: 1, floatData: C }),
      onnx.TensorProto.create({ name: 'shape', dims: [2], dataType: 7, int64Data: [0, -1] }),
      ...a0.inputs,
      ...a1.inputs,
    ],
    input: [{ name: 'input', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }, { dimValue: 3 }] } } } }],
    output: [{ name: 'output', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }, { dimValue: 8 }] } } } }],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, graph, opsetImport: [{ domain: '', version: opset }] })).finish();
}

const rng = xoroshiro128plus(3);
const f32 = (n: number, lo: number, hi: number) => Array.from(Float32Array.from({ length: n }, () => lo + (hi - lo) * uniformFloat64(rng)));
const W = f32(12, -1, 1);
const P = f32(2, 0.2, 1);
const C = f32(4, 0.5, 1.5);
const N = 3;
const X = Float32Array.from(f32(N * 3, -1, 1));
const T = Float32Array.from(f32(N * 8, -1, 1));

function loss(w: Float64Array, p: Float64Array, c: Float64Array): number {
  let total = 0;
  for (let r = 0; r < N; r++) {
    for (let k = 0; k < 2; k++) {
      for (let j = 0; j < 4; j++) {
        let h = 0;
        for (let i = 0; i < 3; i++) h += X[r * 3 + i]! * w[i * 4 + j]!;
        const out = Math.log(Math.exp(-h * p[k]!) + c[j]!);
        total += (out - T[r * 8 + k * 4 + j]!) ** 2;
      }
    }
  }
  return total / (N * 8);
}

describe.each([11, 13])('Unsqueeze/Squeeze/Neg/Exp/Log/Reshape and two-sided broadcasting, opset %i', (opset) => {
  test('gradients equal central differences', async () => {
    const trainer = await OrtTrainer.create(model(opset), { loss: 'mse', optimizer: sgd({ lr: 0.1 }) });
    const { loss: value, grads } = await trainer.gradients(
      { input: new ort.Tensor('float32', X, [N, 3]) },
      new ort.Tensor('float32', T, [N, 8]),
    );
    await trainer.release();
    const params = { W: Float64Array.from(W), p: Float64Array.from(P), c: Float64Array.from(C) };
    const at = () => loss(params.W, params.p, params.c);
    expect(value).toBeCloseTo(at(), 5);
    for (const [name, values] of Object.entries(params)) {
      values.forEach((v, i) => {
        values[i] = v + 1e-6;
        const up = at();
        values[i] = v - 1e-6;
        const down = at();
        values[i] = v;
        const fd = (up - down) / 2e-6;
        expect(Math.abs(grads[name]![i]! - fd), `${name}[${i}]`).toBeLessThan(1e-5 + 1e-4 * Math.abs(fd));
      });
    }
  });
});
