import { describeValue, GradpipeError } from '@gradpipe/core';
import { rejectUnknownKeys, requireInteger, requireOptionsObject } from '@gradpipe/core/internal';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { makeAttribute } from '../onnx/GraphBuilder.js';
import { floatTensor, onnx } from '../onnx/onnxProto.js';
import { orDefault, requireFinite } from '../support/options.js';

/** Options of {@link mlpModel}. */
export interface MlpModelOptions {
  /** Layer widths, input first: `[20, 25, 1]` is the seed's MLP. */
  sizes: readonly number[];
  /** Seed (an integer) of the Glorot-uniform weights, drawn with pure-rand's xoroshiro128+. Default 1. */
  seed?: number;
  /** Every bias starts at this value. Default 0.01, as in the seed. */
  bias?: number;
}

/**
 * An MLP as an ONNX model (ReLU between `nn.Linear`-style layers), written with onnx-proto the way `torch.onnx.export` writes `nn.Linear`
 * stacks: `Gemm(x, W, b, transB=1)` with `W` of shape `[out, in]`, ReLU between layers, none after the last.
 * Weights are Glorot-uniform (`U(±√(6/(in+out)))`), biases constant. Input `input` `[batch, in]`, output
 * `output` `[batch, out]`; weight names `fc1.weight`, `fc1.bias`, …
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-node';
 * import { mlpModel } from '@gradpipe/onnxruntime';
 * const bytes = mlpModel({ sizes: [20, 25, 1], seed: 1 }); // the seed experiment's MLP
 * const session = await ort.InferenceSession.create(bytes);
 * ```
 */
export function mlpModel(options: MlpModelOptions): Uint8Array {
  const { sizes, seed, bias } = checkOptions(options);
  const rng = xoroshiro128plus(seed);
  const nodes = [];
  const initializers = [];
  let h = 'input';
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l]!, sizes[l + 1]!];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = Float32Array.from({ length: fanOut * fanIn }, () => (2 * uniformFloat64(rng) - 1) * limit);
    const b = new Float32Array(fanOut).fill(bias);
    const name = `fc${l + 1}`;
    initializers.push(floatTensor(`${name}.weight`, [fanOut, fanIn], w), floatTensor(`${name}.bias`, [fanOut], b));
    const last = l + 2 === sizes.length;
    const z = last ? 'output' : `${name}.out`;
    nodes.push(
      onnx.NodeProto.create({
        opType: 'Gemm',
        name: `${name}.gemm`,
        input: [h, `${name}.weight`, `${name}.bias`],
        output: [z],
        attribute: [makeAttribute('transB', 1)],
      }),
    );
    h = z;
    if (!last) {
      nodes.push(onnx.NodeProto.create({ opType: 'Relu', name: `${name}.relu`, input: [z], output: [`${name}.act`] }));
      h = `${name}.act`;
    }
  }
  const info = (name: string, width: number) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } } },
  });
  const graph = onnx.GraphProto.create({
    name: 'mlp',
    node: nodes,
    initializer: initializers,
    input: [info('input', sizes[0]!)],
    output: [info('output', sizes[sizes.length - 1]!)],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'gradpipe', graph, opsetImport: [{ domain: '', version: 17 }] });
  return onnx.ModelProto.encode(model).finish();
}

/** The options, checked: at least two layer widths, each an integer >= 1; an int32 seed; a finite bias. */
function checkOptions(options: MlpModelOptions): Required<MlpModelOptions> {
  const fn = 'mlpModel';
  requireOptionsObject(fn, options);
  rejectUnknownKeys(fn, options, ['sizes', 'seed', 'bias']);
  const { sizes } = options;
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new GradpipeError(
      fn,
      `sizes must be the layer widths, input first, at least two (such as [20, 25, 1]), got ${describeValue(sizes)}`,
    );
  }
  sizes.forEach((width, i) => requireInteger(fn, `sizes[${i}]`, width, 1));
  return {
    sizes,
    seed: requireInteger(fn, 'seed', orDefault(options.seed, 1), -(2 ** 31), 2 ** 31 - 1),
    bias: requireFinite(fn, 'bias', orDefault(options.bias, 0.01)),
  };
}
