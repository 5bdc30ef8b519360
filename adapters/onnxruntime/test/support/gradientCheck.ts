// Checks one operator's gradient rule against finite differences of ONNX Runtime's own forward pass.
//
// The operator runs alone in a graph; its float inputs are the parameters. The loss is a fixed random
// linear functional of its outputs, L = Σ_k Σ y_k ⊙ R_k (so every output element matters and L's curvature is
// the operator's own), summed in float64 from the float32 outputs. The analytic gradient comes from
// buildTrainingModel; the numeric one is a central difference along random directions v, with Richardson
// extrapolation (h and h/2) to cancel the h² term:
//     D(h) = L(θ + Δ⁺) − L(θ + Δ⁻),   Δ± = fround(θ ± h·v) − θ   (the perturbation float32 really applied)
//     compared with g · (Δ⁺ − Δ⁻), the analytic change for the same perturbation.
// The error reported is the disagreement beyond the float32 rounding noise of the outputs (eight half-ulps of
// Σ|y ⊙ R|), relative to Σ|g ⊙ (Δ⁺ − Δ⁻)|: a wrong rule gives errors of order 1, rounding alone gives 0.

import { buildTrainingModel } from '@gradpipe/onnxruntime';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

const { onnx } = onnxProto;
type Tensor = InstanceType<typeof onnx.TensorProto>;

/** One input of the operator under test. */
export interface CaseInput {
  dims: number[];
  /** Default: standard normal values (float32). */
  values?: ArrayLike<number>;
  /** Default 'float32'. Integer and boolean inputs are constants. */
  type?: 'float32' | 'int64' | 'bool';
  /** A float input that is not differentiated (e.g. Clip's bounds, BatchNormalization's running mean). */
  constant?: boolean;
  /** An integer input fed at run time rather than stored in the model: its values are unknown when the graph is built. */
  fed?: boolean;
}

/** An attribute value, as onnx.helper would take it. */
export type Attr =
  | number
  | number[]
  | { float: number }
  | { floats: number[] }
  | { string: string }
  | { strings: string[] }
  | { tensor: Tensor };

/** One operator, its attributes and inputs. */
export interface RuleCase {
  op: string;
  attributes?: Record<string, Attr>;
  /** Inputs in order; null for an optional input left out. */
  inputs: (CaseInput | null)[];
  /** How many outputs the node declares (default 1). */
  outputs?: number;
  /** Which outputs enter the loss (default: output 0). */
  lossOn?: number[];
  /** Optional outputs the node leaves out (listed as ''), e.g. an LSTM's Y when only Y_h is read. */
  omit?: number[];
  /** ai.onnx opset of the test model (default 17). */
  opset?: number;
  /** Seed of the random values and directions. */
  seed: number;
  /** Operators applied one after the other to output 0 before the loss (e.g. a Cast back to float32). */
  then?: { op: string; attributes?: Record<string, Attr> }[];
  /** Step of the differences, relative to unit-sized parameters (default 1e-2, Richardson-extrapolated). Smaller near kinks. */
  h?: number;
}

/** What the check measured. */
export interface RuleCheck {
  /** Per differentiated input: the worst |numeric − analytic| / scale over the directions tried. */
  errors: Record<string, number>;
  /** The analytic gradients, by input name (`in0`, `in1`, …). */
  grads: Record<string, Float32Array>;
  /** The forward outputs at θ. */
  outputs: ort.Tensor[];
}

const T = onnx.AttributeProto.AttributeType;
function attribute(name: string, v: Attr) {
  if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
  if ('string' in v) return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v.string) });
  if ('strings' in v)
    return onnx.AttributeProto.create({ name, type: T.STRINGS, strings: v.strings.map((s) => new TextEncoder().encode(s)) });
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: v.tensor });
}

const ELEM = { float32: 1, int64: 7, bool: 9 } as const;

function tensorProto(name: string, input: CaseInput, values: ArrayLike<number>): Tensor {
  const type = input.type ?? 'float32';
  const bytes =
    type === 'float32'
      ? new Uint8Array(Float32Array.from(values).buffer)
      : type === 'int64'
        ? new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer)
        : Uint8Array.from(values);
  return onnx.TensorProto.create({ name, dims: input.dims, dataType: ELEM[type], rawData: bytes });
}

function encode(
  nodes: InstanceType<typeof onnx.NodeProto>[],
  inits: Tensor[],
  inputs: { name: string; dims: number[]; elemType?: number }[],
  outputs: string[],
  opset: number,
) {
  const graph = onnx.GraphProto.create({
    name: 'rule_check',
    node: nodes,
    initializer: inits,
    input: inputs.map(({ name, dims, elemType }) => ({
      name,
      type: { tensorType: { elemType: elemType ?? 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    })),
    output: outputs.map((name) => ({ name, type: { tensorType: { elemType: 1 } } })),
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, graph, opsetImport: [{ domain: '', version: opset }] })).finish();
}

/** Runs the check; the caller asserts on the errors. */
export async function checkRule(c: RuleCase): Promise<RuleCheck> {
  const rng = xoroshiro128plus(c.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniformFloat64(rng))) * Math.cos(2 * Math.PI * uniformFloat64(rng));
  const opset = c.opset ?? 17;
  const names = c.inputs.map((input, i) => (input ? `in${i}` : ''));
  const values = c.inputs.map((input) => {
    if (!input) return undefined;
    const n = input.dims.reduce((a, b) => a * b, 1);
    return Float32Array.from(input.values ?? Array.from({ length: n }, normal));
  });
  const params = c.inputs
    .map((input, i) => (input && (input.type ?? 'float32') === 'float32' && !input.constant ? i : -1))
    .filter((i) => i >= 0);
  const fed = c.inputs.map((input, i) => (input?.fed ? i : -1)).filter((i) => i >= 0);
  const constants = c.inputs
    .map((input, i) => (input && !params.includes(i) && !input.fed ? tensorProto(names[i]!, input, values[i]!) : undefined))
    .filter(Boolean) as Tensor[];
  const fedTensors = Object.fromEntries(
    fed.map((i) => {
      const input = c.inputs[i]!;
      const data = input.type === 'bool' ? Uint8Array.from(values[i]!) : BigInt64Array.from(Array.from(values[i]!), (v) => BigInt(v));
      return [names[i]!, new ort.Tensor(input.type === 'bool' ? 'bool' : 'int64', data, input.dims)];
    }),
  );
  const fedInfos = fed.map((i) => ({ name: names[i]!, dims: c.inputs[i]!.dims, elemType: ELEM[c.inputs[i]!.type ?? 'int64'] }));
  const outCount = c.outputs ?? 1;
  const nodeOuts = Array.from({ length: outCount }, (_, k) => (c.omit?.includes(k) ? '' : `out${k}`));
  // A chain after the node replaces output 0 by the chain's end.
  const chain = (c.then ?? []).map((t, j) =>
    onnx.NodeProto.create({
      opType: t.op,
      name: `then${j}`,
      input: [j === 0 ? 'out0' : `then${j - 1}`],
      output: [`then${j}`],
      attribute: Object.entries(t.attributes ?? {}).map(([n, v]) => attribute(n, v)),
    }),
  );
  const outs = chain.length ? [chain[chain.length - 1]!.output[0]!, ...nodeOuts.slice(1)] : nodeOuts;
  const lossOn = c.lossOn ?? [0];
  // Trailing optional inputs left out are not listed at all (some operators have no such input in older opsets).
  const listed = names.slice(0, names.length - [...names].reverse().findIndex((n) => n !== ''));
  const node = onnx.NodeProto.create({
    opType: c.op,
    name: 'under_test',
    input: listed,
    output: nodeOuts,
    attribute: Object.entries(c.attributes ?? {}).map(([n, v]) => attribute(n, v)),
  });

  // Forward model: parameters as graph inputs, the loss outputs as graph outputs.
  const forwardBytes = encode(
    [node, ...chain],
    constants,
    [...params.map((i) => ({ name: names[i]!, dims: c.inputs[i]!.dims })), ...fedInfos],
    lossOn.map((k) => outs[k]!),
    opset,
  );
  const forward = await ort.InferenceSession.create(forwardBytes);
  const run = async (theta: Float32Array[]) => {
    const feeds = {
      ...fedTensors,
      ...Object.fromEntries(params.map((i, j) => [names[i]!, new ort.Tensor('float32', theta[j]!, c.inputs[i]!.dims)])),
    };
    const out = await forward.run(feeds);
    return lossOn.map((k) => out[outs[k]!]!);
  };
  const theta = params.map((i) => values[i]!);
  const outputs = await run(theta);
  const R = outputs.map((o) => Float64Array.from({ length: o.data.length }, normal));
  // L and the size of its terms: float32 outputs carry a relative rounding error of 2⁻²⁴ each, so differences
  // of L below a few times Σ|y ⊙ R|·2⁻²⁴ are noise.
  const lossAt = async (t: Float32Array[]) => {
    const ys = await run(t);
    let total = 0;
    let magnitude = 0;
    ys.forEach((y, k) =>
      (y.data as Float32Array).forEach((v, i) => {
        total += v * R[k]![i]!;
        magnitude += Math.abs(v * R[k]![i]!);
      }),
    );
    return { total, noise: magnitude * 2 ** -24 };
  };

  // Training model: the same node, parameters as initializers, L = Σ ReduceSum(y ⊙ R) as a model output.
  const rInits = outputs.map((o, k) => tensorProto(`R${k}`, { dims: [...o.dims] }, R[k]!));
  const lossNodes = lossOn.flatMap((k, j) => [
    onnx.NodeProto.create({ opType: 'Mul', name: `weigh${j}`, input: [outs[k]!, `R${j}`], output: [`weighted${j}`] }),
    onnx.NodeProto.create({
      opType: 'ReduceSum',
      name: `sum${j}`,
      input: [`weighted${j}`],
      output: [`partial${j}`],
      attribute: [attribute('keepdims', 0)],
    }),
  ]);
  lossNodes.push(onnx.NodeProto.create({ opType: 'Sum', name: 'total', input: lossOn.map((_, j) => `partial${j}`), output: ['loss'] }));
  const paramInits = params.map((i) => tensorProto(names[i]!, c.inputs[i]!, values[i]!));
  const trainingBytes = encode([node, ...chain, ...lossNodes], [...constants, ...paramInits, ...rInits], fedInfos, ['loss'], opset);
  const tm = buildTrainingModel(trainingBytes, { loss: { output: 'loss' }, trainable: params.map((i) => names[i]!) });
  const session = await ort.InferenceSession.create(tm.bytes);
  const feeds = {
    ...fedTensors,
    ...Object.fromEntries(params.map((i, j) => [names[i]!, new ort.Tensor('float32', theta[j]!, c.inputs[i]!.dims)])),
  };
  const result = await session.run(feeds);
  const grads = Object.fromEntries(params.map((i) => [names[i]!, result[tm.signature.gradients[names[i]!]!]!.data as Float32Array]));

  // Directions: each parameter alone, then all together; three random directions each.
  const h = c.h ?? 1e-2;
  const errors: Record<string, number> = {};
  const groups = [...params.map((i) => [i]), ...(params.length > 1 ? [params] : [])];
  for (const group of groups) {
    for (let trial = 0; trial < 3; trial++) {
      // Entries of size 0.5 to 1.5 with random signs: no direction is accidentally almost zero.
      const entry = () => (uniformFloat64(rng) < 0.5 ? -1 : 1) * (0.5 + uniformFloat64(rng));
      const v = params.map((i, j) => (group.includes(i) ? Float64Array.from({ length: theta[j]!.length }, entry) : undefined));
      const measure = async (step: number) => {
        const shifted = (sign: number) => theta.map((t, j) => (v[j] ? Float32Array.from(t, (x, k) => x + sign * step * v[j]![k]!) : t));
        const [up, down] = [shifted(1), shifted(-1)];
        const [lu, ld] = [await lossAt(up), await lossAt(down)];
        const numeric = lu.total - ld.total;
        const noise = lu.noise + ld.noise;
        let analytic = 0;
        let scale = 0;
        params.forEach((i, j) => {
          if (!v[j]) return;
          const g = grads[names[i]!]!;
          for (let k = 0; k < g.length; k++) {
            const d = up[j]![k]! - down[j]![k]!;
            analytic += g[k]! * d;
            scale += Math.abs(g[k]! * d);
          }
        });
        return { numeric, analytic, scale, noise };
      };
      const [full, half] = [await measure(h), await measure(h / 2)];
      const numeric = (4 * half.numeric - full.numeric) / 3;
      const analytic = (4 * half.analytic - full.analytic) / 3;
      // The disagreement beyond float32's rounding of the outputs (a few roundings of each, with Richardson's
      // weights 4/3 and 1/3 on the two steps' noise), relative to the size of the terms summed.
      const noise = (4 * half.noise + full.noise) / 3;
      const scale = (4 * half.scale + full.scale) / 3;
      const error = Math.max(0, Math.abs(numeric - analytic) - 8 * noise) / (scale + 1e-30);
      const key = group.length === 1 ? names[group[0]!]! : 'all';
      errors[key] = Math.max(errors[key] ?? 0, error);
    }
  }
  await Promise.all([forward.release(), session.release()]);
  return { errors, grads, outputs };
}

/** The largest error of a check. */
export function worstError(check: RuleCheck): number {
  return Math.max(0, ...Object.values(check.errors));
}
