// Random small MLPs for the finite-difference property test: one spec gives an ONNX model (written with
// onnx-proto, the way users would) and an independent float64 forward pass in plain JS.

import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

const { onnx } = onnxProto;

export type Activation = 'Tanh' | 'Sigmoid' | 'LeakyRelu' | 'Identity' | 'Softmax' | 'LogSoftmax';

export interface LayerSpec {
  out: number;
  kind: 'gemm' | 'matmul';
  transB: boolean;
  alpha: number;
  beta: number;
  /** Multiply by a trainable [1, out] scale after the affine map (broadcasting Mul). */
  scale: boolean;
  activation: Activation;
}

export interface MlpSpec {
  opset: number;
  batch: number;
  /** Extra middle dimension of the input ([batch, steps, in]); MatMul layers only. 0 for 2-D input. */
  steps: number;
  inDim: number;
  layers: LayerSpec[];
  loss: 'mse' | 'crossEntropy';
  seed: number;
}

const layerArb = (rank3: boolean): fc.Arbitrary<LayerSpec> =>
  fc.record({
    out: fc.integer({ min: 1, max: 5 }),
    kind: rank3 ? fc.constant('matmul' as const) : fc.constantFrom('gemm' as const, 'matmul' as const),
    transB: fc.boolean(),
    alpha: fc.constantFrom(1, 0.5, 1.5),
    beta: fc.constantFrom(1, 0.25, 2),
    scale: fc.boolean(),
    activation: fc.constantFrom<Activation>('Tanh', 'Sigmoid', 'LeakyRelu', 'Identity', 'Softmax', 'LogSoftmax'),
  });

export const mlpSpecArb: fc.Arbitrary<MlpSpec> = fc.boolean().chain((rank3) =>
  fc.record({
    opset: fc.constantFrom(10, 11, 13, 17),
    batch: fc.integer({ min: 1, max: 4 }),
    steps: rank3 ? fc.integer({ min: 1, max: 3 }) : fc.constant(0),
    inDim: fc.integer({ min: 1, max: 4 }),
    layers: fc.array(layerArb(rank3), { minLength: 1, maxLength: 3 }),
    loss: rank3 ? fc.constant('mse' as const) : fc.constantFrom('mse' as const, 'crossEntropy' as const),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  }),
);

export interface BuiltMlp {
  bytes: Uint8Array;
  params: Record<string, { dims: number[]; data: Float32Array }>;
  x: Float32Array;
  xDims: number[];
  target: Float32Array | BigInt64Array;
  targetDims: number[];
  /** The loss in float64 for the given parameter values. */
  loss(params: Record<string, Float64Array>): number;
}

export function buildMlp(spec: MlpSpec): BuiltMlp {
  const rng = xoroshiro128plus(spec.seed);
  // Box–Muller: pure-rand draws uniforms only.
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniformFloat64(rng))) * Math.cos(2 * Math.PI * uniformFloat64(rng));
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const inits: InstanceType<typeof onnx.TensorProto>[] = [];
  const params: BuiltMlp['params'] = {};
  const addParam = (name: string, dims: number[], scale: number) => {
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => normal() * scale);
    params[name] = { dims, data };
    inits.push(onnx.TensorProto.create({ name, dims, dataType: 1, rawData: new Uint8Array(data.buffer) }));
  };
  const attr = (name: string, v: number, float = false) =>
    onnx.AttributeProto.create(float ? { name, type: 1, f: v } : { name, type: 2, i: v });

  let h = 'input';
  let width = spec.inDim;
  spec.layers.forEach((layer, i) => {
    const W = `W${i}`;
    const b = `b${i}`;
    if (layer.kind === 'gemm') {
      addParam(W, layer.transB ? [layer.out, width] : [width, layer.out], 0.8);
      addParam(b, [layer.out], 0.5);
      nodes.push(
        onnx.NodeProto.create({
          opType: 'Gemm',
          name: `gemm${i}`,
          input: [h, W, b],
          output: [`z${i}`],
          attribute: [attr('transB', layer.transB ? 1 : 0), attr('alpha', layer.alpha, true), attr('beta', layer.beta, true)],
        }),
      );
    } else {
      addParam(W, [width, layer.out], 0.8);
      addParam(b, [layer.out], 0.5);
      nodes.push(onnx.NodeProto.create({ opType: 'MatMul', name: `matmul${i}`, input: [h, W], output: [`m${i}`] }));
      nodes.push(onnx.NodeProto.create({ opType: 'Add', name: `add${i}`, input: [`m${i}`, b], output: [`z${i}`] }));
    }
    h = `z${i}`;
    if (layer.scale) {
      addParam(`s${i}`, [1, layer.out], 1);
      nodes.push(onnx.NodeProto.create({ opType: 'Mul', name: `scale${i}`, input: [h, `s${i}`], output: [`zs${i}`] }));
      h = `zs${i}`;
    }
    const act = layer.activation;
    const out = i === spec.layers.length - 1 ? 'output' : `a${i}`;
    const attributes =
      act === 'LeakyRelu' ? [attr('alpha', 0.1, true)] : act === 'Softmax' || act === 'LogSoftmax' ? [attr('axis', -1)] : [];
    nodes.push(onnx.NodeProto.create({ opType: act, name: `act${i}`, input: [h], output: [out], attribute: attributes }));
    h = out;
    width = layer.out;
  });

  const rank3 = spec.steps > 0;
  const xDims = rank3 ? [spec.batch, spec.steps, spec.inDim] : [spec.batch, spec.inDim];
  const rows = spec.batch * (rank3 ? spec.steps : 1);
  const outDims = rank3 ? [spec.batch, spec.steps, width] : [spec.batch, width];
  const dimsInfo = (dims: (number | string)[]) => ({ dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) });
  const graph = onnx.GraphProto.create({
    name: 'random_mlp',
    node: nodes,
    initializer: inits,
    input: [{ name: 'input', type: { tensorType: { elemType: 1, shape: dimsInfo(['batch', ...xDims.slice(1)]) } } }],
    output: [{ name: 'output', type: { tensorType: { elemType: 1, shape: dimsInfo(['batch', ...outDims.slice(1)]) } } }],
  });
  const model = onnx.ModelProto.create({ irVersion: 7, graph, opsetImport: [{ domain: '', version: spec.opset }] });
  const bytes = onnx.ModelProto.encode(model).finish();

  const x = Float32Array.from({ length: rows * spec.inDim }, normal);
  const classes = width;
  const target =
    spec.loss === 'mse'
      ? Float32Array.from({ length: rows * width }, normal)
      : BigInt64Array.from({ length: spec.batch }, () => BigInt(uniformInt(rng, 0, classes - 1)));
  const targetDims = spec.loss === 'mse' ? outDims : [spec.batch];

  const loss = (p: Record<string, Float64Array>): number => {
    let act: number[][] = Array.from({ length: rows }, (_, r) => Array.from(x.subarray(r * spec.inDim, (r + 1) * spec.inDim)));
    let w = spec.inDim;
    spec.layers.forEach((layer, i) => {
      const W = p[`W${i}`]!;
      const b = p[`b${i}`]!;
      const s = p[`s${i}`];
      const gemm = layer.kind === 'gemm';
      act = act.map((row) => {
        const z = Array.from({ length: layer.out }, (_, o) => {
          let sum = 0;
          for (let k = 0; k < w; k++) sum += row[k]! * (gemm && layer.transB ? W[o * w + k]! : W[k * layer.out + o]!);
          return gemm ? layer.alpha * sum + layer.beta * b[o]! : sum + b[o]!;
        }).map((v, o) => (s ? v * s[o]! : v));
        return activate(layer.activation, z);
      });
      w = layer.out;
    });
    if (spec.loss === 'mse') {
      let total = 0;
      act.forEach((row, r) => row.forEach((v, o) => (total += (v - (target as Float32Array)[r * w + o]!) ** 2)));
      return total / (rows * w);
    }
    let total = 0;
    act.forEach((row, r) => {
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      total += lse - row[Number((target as BigInt64Array)[r])]!;
    });
    return total / rows;
  };
  return { bytes, params, x, xDims, target, targetDims, loss };
}

function activate(kind: Activation, z: number[]): number[] {
  switch (kind) {
    case 'Tanh':
      return z.map(Math.tanh);
    case 'Sigmoid':
      return z.map((v) => 1 / (1 + Math.exp(-v)));
    case 'LeakyRelu':
      return z.map((v) => (v > 0 ? v : 0.1 * v));
    case 'Identity':
      return z;
    case 'Softmax':
    case 'LogSoftmax': {
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
      return z.map((v) => (kind === 'Softmax' ? Math.exp(v - lse) : v - lse));
    }
  }
}
