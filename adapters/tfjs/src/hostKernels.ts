import { combineNorms, normOf, typedArrayOps } from '@gradpipe/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Three tfjs kernels for the backends whose tensor memory JavaScript can read directly — `cpu` (JS arrays) and
 * `wasm` (the WebAssembly heap): a tensor's p-norm and its product with a scalar, one pass each, the norm
 * accumulated in float64 by core's `normOf` (so it cannot overflow); and the global norm of many per-tensor norms,
 * combined in float64 by core. The portable op compositions in tfjsOps.ts cost four passes for a norm and a few
 * scalar ops per tensor for a global norm (each op has a fixed cost, ≈ 12 µs on wasm), and tfjs-cpu's element-wise
 * ops with a scalar operand are its slowest; these keep a wrapped step close to the bare optimizer. Other backends
 * (webgl, webgpu, node) use the portable ops.
 *
 * They run through `tf.engine().runKernel`, so `tf.tidy` and `tf.memory()` track their outputs like any op's,
 * and reading the scale factor inside the kernel is no host read-back: on these backends it is host memory.
 */
const NORM = 'GradpipeNorm';
const SCALE = 'GradpipeScale';
const COMBINE = 'GradpipeCombineNorms';

/** The largest float32: a norm of finite entries above it is reported as it (here and in tfjsOps' `saturate`). */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A finite norm stays finite in float32: above the largest float32 it is reported as that. */
function saturate(norm: number): number {
  return Number.isFinite(norm) ? Math.min(norm, FLOAT32_MAX) : norm;
}

/** How each backend exposes a tensor's memory and makes an output. */
interface HostMemory {
  read(t: tf.TensorInfo): Float32Array;
  /** A new float32 output of `shape` and a writable view of it (taken after the allocation). */
  output(shape: number[], fill: (out: Float32Array) => void): tf.TensorInfo;
}

interface CpuBackend {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

const MEMORY: Record<'cpu' | 'wasm', (backend: unknown) => HostMemory> = {
  cpu: (backend) => {
    const cpu = backend as CpuBackend;
    return {
      read: (t) => cpu.data.get(t.dataId).values as Float32Array,
      output(shape, fill) {
        const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
        fill(out);
        return cpu.makeTensorInfo(shape, 'float32', out);
      },
    };
  },
  wasm: (backend) => {
    const wasm = backend as WasmBackend;
    return {
      read: (t) => wasm.typedArrayFromHeap(t),
      output(shape, fill) {
        // Allocate first: growing the heap detaches views taken before, so the fill reads its inputs afterwards.
        const out = wasm.makeOutput(shape, 'float32');
        fill(wasm.typedArrayFromHeap(out));
        return out;
      },
    };
  },
};

/** What each kernel computes, given its backend's memory: one float32 output. */
const KERNELS: Record<string, (host: HostMemory, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined) => tf.TensorInfo> = {
  [NORM]: (host, inputs, attrs) =>
    host.output([], (out) => {
      out[0] = saturate(normOf(host.read(inputs.x!), (attrs as { p: number }).p));
    }),
  [COMBINE]: (host, inputs, attrs) =>
    host.output([], (out) => {
      const norms = Object.values(inputs).map((n) => host.read(n!)[0]!);
      out[0] = saturate(combineNorms(typedArrayOps, norms, (attrs as { p: number }).p));
    }),
  [SCALE]: (host, inputs) =>
    host.output([...inputs.x!.shape], (out) => {
      const x = host.read(inputs.x!);
      const factor = host.read(inputs.factor!)[0]!;
      if (factor === 1) out.set(x);
      else for (let i = 0; i < x.length; i++) out[i] = x[i]! * factor;
    }),
};

// Registered once, when this module loads (a second copy of it finds them registered).
for (const backendName of ['cpu', 'wasm'] as const) {
  for (const [kernelName, compute] of Object.entries(KERNELS)) {
    if (tf.getKernel(kernelName, backendName)) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => compute(MEMORY[backendName](backend), inputs, attrs),
    });
  }
}

/** True when the active backend has the one-pass kernels (`cpu`, `wasm`). */
export function hasHostKernels(): boolean {
  const name = tf.getBackend();
  return name === 'cpu' || name === 'wasm';
}

/** ‖t‖_p in one float64 pass; finite entries give a finite norm (saturated at 3.4e38). */
export function hostNorm(t: tf.Tensor, p: number): tf.Scalar {
  return tf.engine().runKernel(NORM, { x: t }, { p }) as tf.Scalar;
}

/** The global p-norm of tensors whose p-norms are `norms` (scalars), combined in float64 like core's typed arrays. */
export function hostCombineNorms(norms: readonly tf.Scalar[], p: number): tf.Scalar {
  const inputs: tf.NamedTensorMap = {};
  norms.forEach((n, i) => (inputs[`norm${i}`] = n));
  return tf.engine().runKernel(COMBINE, inputs, { p }) as tf.Scalar;
}

/** `t · factor` in one pass (an exact copy when the factor is 1). */
export function hostScale(t: tf.Tensor, factor: tf.Scalar): tf.Tensor {
  return tf.engine().runKernel(SCALE, { x: t, factor }, {}) as tf.Tensor;
}
