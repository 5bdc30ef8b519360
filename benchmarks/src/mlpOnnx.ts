import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS: take the schema from its default export.
const { onnx } = onnxProto;

/**
 * An MLP as ONNX bytes, the way `torch.onnx.export` writes an `nn.Linear` stack: `Gemm(x, W, b, transB=1)` with
 * ReLU between layers. `sizes` are the widths, input first (`[20, 25, 1]` is the seed's MLP). Weights are
 * Glorot-uniform from a fixed seed, biases 0.01. Input `input` `[batch, sizes[0]]`, output `output`.
 */
export function mlpOnnx(sizes: readonly number[], seed = 1): Uint8Array {
  let state = seed >>> 0;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const nodes = [];
  const initializers = [];
  let h = 'input';
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l]!, sizes[l + 1]!];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = Float32Array.from({ length: fanOut * fanIn }, () => (2 * random() - 1) * limit);
    const b = new Float32Array(fanOut).fill(0.01);
    const name = `fc${l + 1}`;
    initializers.push(tensor(`${name}.weight`, [fanOut, fanIn], w), tensor(`${name}.bias`, [fanOut], b));
    const last = l + 2 === sizes.length;
    const z = last ? 'output' : `${name}.out`;
    nodes.push(
      onnx.NodeProto.create({
        opType: 'Gemm',
        name: `${name}.gemm`,
        input: [h, `${name}.weight`, `${name}.bias`],
        output: [z],
        attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
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
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'gradpipe-benchmarks', graph, opsetImport: [{ domain: '', version: 17 }] });
  return onnx.ModelProto.encode(model).finish();
}

function tensor(name: string, dims: number[], data: Float32Array) {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
}
