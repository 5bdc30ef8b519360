import * as tf from '@tensorflow/tfjs-core';

/**
 * Four tfjs kernels for the GPU backends, `webgl` and `webgpu`, registered the way hostKernels.ts registers the
 * cpu/wasm ones (tfjs finds them by name and backend; no import of the backend packages is needed):
 *
 * - `GradpipeRowNorms`: the L2 norm of every row of L consecutive elements, in one shader — Blue's sums of squares
 *   of small, medium and large values, each scaled by a power of two (LAPACK's `snrm2`), so nothing overflows or
 *   underflows, with no division per element; NaN if the row has a NaN, +Infinity if it has an infinity, and at most the largest float32
 *   otherwise. Run on its own output until one value is left, it gives a tensor's norm in two kernels; on a stack
 *   of per-tensor norms, their global norm in one. On webgl a packed matrix's first pass reads its 2×2 texels.
 * - `GradpipeClipFactor`: the clip factor of a norm and a threshold as two float32 numbers `[hi, lo]` whose
 *   product it is, both normal even where `threshold / norm` is below the smallest normal float32 (GPUs flush such
 *   numbers to zero: a single factor would zero the gradient) — then the product itself and the clipped flag,
 *   for the step's figures: `[hi, lo, factor, clipped]`. `[1, 1, 1, 0]` when not clipping.
 * - `GradpipeClipScale`: `(x · hi) · lo`, a packed shader on webgl (it reads and writes the 2×2-texel layout the
 *   optimizer's own ops use, so nothing is repacked). `x` is unchanged (bit for bit) when not clipping.
 * - `GradpipeKeep`: `skip ? previous : next` for a skip flag on the device (keepingWhere.ts), in one shader where
 *   `tf.where` with a scalar condition takes five kernels (it broadcasts and copies all three operands).
 *
 * The standard-op compositions they replace cost about fifteen kernels per tensor norm (max, min, a division,
 * a batched dot product, NaN and saturation masks) and eight scalar ops per clip factor.
 */
const ROW_NORMS = 'GradpipeRowNorms';
const CLIP_SCALE = 'GradpipeClipScale';
const CLIP_FACTOR = 'GradpipeClipFactor';
const KEEP = 'GradpipeKeep';

/** A row norm loops over at most this many values; longer tensors take one more pass. */
const MAX_ROW = 4096;

/** The GPU backends these kernels are registered for. */
export const GPU_BACKENDS: readonly string[] = ['webgl', 'webgpu'];

/** True when the active backend is one of {@link GPU_BACKENDS}. */
export function onGpu(): boolean {
  return GPU_BACKENDS.includes(tf.getBackend());
}

// --- the shaders --------------------------------------------------------------------------------------------

/** GLSL: the float at flat index `i` of an input of this shape (tfjs samplers take coordinates). */
function glslFlatGetter(shape: readonly number[]): string {
  if (shape.length === 0) return 'float valueAt(int i) { return getX(); }';
  if (shape.length === 1) return 'float valueAt(int i) { return getX(i); }';
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const coords = strides.map((s, d) => `int c${d} = r / ${s}; r -= c${d} * ${s};`).join(' ');
  return `float valueAt(int i) { int r = i; ${coords} return getX(${shape.map((_, d) => `c${d}`).join(', ')}); }`;
}

const GLSL_HELPERS = `
  const float FLOAT32_MAX = 3.4028234663852886e38;
  const float TSML = 1.0842021724855044e-19;     // 2^-63
  const float TBIG = 4503599627370496.0;         // 2^52
  const float SSML = 3.777893186295716e22;       // 2^75
  const float SSML_INV = 2.6469779601696886e-23; // 2^-75
  const float SBIG = 1.3234889800848443e-23;     // 2^-76
  const float SBIG_INV = 7.555786372591432e22;   // 2^76
  #define NAN_VALUE uintBitsToFloat(0x7fc00000u)
  #define INF_VALUE uintBitsToFloat(0x7f800000u)
  const float TWO_M64 = 5.421010862427522e-20;   // 2^-64
  const float TWO_P64 = 18446744073709551616.0;  // 2^64
  const float TWO_P60 = 1152921504606846976.0;   // 2^60
  bool gpIsNaN(float v) { return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u; }
  bool gpIsInf(float v) { return (floatBitsToUint(v) & 0x7fffffffu) == 0x7f800000u; }
`;

const WGSL_HELPERS = `
  const FLOAT32_MAX = 3.4028234663852886e38f;
  const TSML = 1.0842021724855044e-19f;
  const TBIG = 4503599627370496.0f;
  const SSML = 3.777893186295716e22f;
  const SSML_INV = 2.6469779601696886e-23f;
  const SBIG = 1.3234889800848443e-23f;
  const SBIG_INV = 7.555786372591432e22f;
  const TWO_M64 = 5.421010862427522e-20f;
  const TWO_P64 = 18446744073709551616.0f;
  const TWO_P60 = 1152921504606846976.0f;
  fn gpIsNaN(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
  fn gpIsInf(v : f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }
`;

/**
 * Blue's three-accumulator sum of squares (as LAPACK's `snrm2` since 3.10): an element above 2⁵² adds its square
 * scaled by 2⁻⁷⁶, one below 2⁻⁶³ its square scaled by 2⁷⁵, the rest their plain square (the medium and large sums
 * with Kahan compensation, so a row of a thousand values keeps float32 accuracy; the small one only matters when
 * nothing else is there). No division per element and no square that
 * overflows or underflows. A NaN falls through both comparisons into `amed`; an infinity lands in `abig`.
 * The syntax is GLSL; {@link toWgsl} turns it into WGSL.
 */
const SUM_STEP = `
      if (a > TBIG) {
        // An infinity would turn the compensation into NaN: it is noted instead.
        if (gpIsInf(a)) { inf = true; } else { float b = a * SBIG; float y = b * b - cbig; float t = abig + y; cbig = (t - abig) - y; abig = t; }
      }
      else if (a < TSML) { float b = a * SSML; asml += b * b; }
      else { float y = a * a - comp; float t = amed + y; comp = (t - amed) - y; amed = t; }`;

/** The norm from the three sums, saturated at the largest float32 unless an entry was non-finite. */
const SUM_FINISH = `
    float norm;
    if (gpIsNaN(amed)) { norm = NAN_VALUE; }
    else if (inf) { norm = INF_VALUE; }
    else if (abig > 0.0) { norm = min(sqrt(abig + (amed * SBIG) * SBIG) * SBIG_INV, FLOAT32_MAX); }
    else if (asml > 0.0 && amed > 0.0) {
      float m = sqrt(amed);
      float s = sqrt(asml) * SSML_INV;
      float hi = max(m, s);
      float lo = min(m, s) / hi;
      norm = hi * sqrt(1.0 + lo * lo);
    }
    else if (asml > 0.0) { norm = sqrt(asml) * SSML_INV; }
    else { norm = sqrt(amed); }`;

/** The accumulators' declarations. */
const SUM_INIT = 'float asml = 0.0; float amed = 0.0; float abig = 0.0; float comp = 0.0; float cbig = 0.0; bool inf = false;';

/** GLSL → WGSL for the few constructs the snippets above use. */
const toWgsl = (glsl: string): string =>
  glsl
    .replace(/float (asml|amed|abig|comp|cbig) = 0\.0;/g, 'var $1 = 0.0;')
    .replace('bool inf = false;', 'var inf = false;')
    .replace('float norm;', 'var norm : f32;')
    .replace(/float (\w+) =/g, 'let $1 =');

/**
 * The clip factor `goal / n · safety` with goal = max(t − slack, 0) (`target` is a WGSL keyword) as `hi · lo`, both
 * normal float32: for n ≥ 2⁶⁴, n' = n·2⁻⁶⁴ and the factor is (goal/n') · 2⁻⁶⁴, or (goal·2⁻⁶⁴)/n' when the
 * threshold itself is above 2⁶⁰ (then the factor is a normal float32). Scaling by `hi` first keeps every
 * intermediate the result times a power of two that leaves it normal.
 */
const CLIP_MATH = `
    float goal = max(t - slack, 0.0);
    float hi = 1.0;
    float lo = 1.0;
    if (clipped) {
      if (n < TWO_P64) {
        hi = goal / n * safety;
      } else if (goal < TWO_P60) {
        hi = goal / (n * TWO_M64) * safety;
        lo = TWO_M64;
      } else {
        hi = (goal * TWO_M64) / (n * TWO_M64) * safety;
      }
    }`;

const wgslClipMath = CLIP_MATH.replace('float hi = 1.0;', 'var hi = 1.0;')
  .replace('float lo = 1.0;', 'var lo = 1.0;')
  .replace(/float (\w+) =/g, 'let $1 =');

interface WebGLBackend {
  runWebGLProgram(program: object, inputs: tf.TensorInfo[], dtype: tf.DataType, customUniformValues?: number[][]): tf.TensorInfo;
  texData: { get(dataId: object): { isPacked?: boolean } };
}

/**
 * The first pass over a packed 2-D texture (what tfjs's matMul and Adam's ops leave behind), read as it is: each
 * thread takes two rows, one 2×2 texel per fetch, masking the texel's halves that lie beyond an odd edge. An
 * unpacked program would first make an unpacked copy of the whole tensor.
 */
function packedRowPairNorms(backend: WebGLBackend, x: tf.TensorInfo): tf.TensorInfo {
  const [rows, cols] = x.shape as [number, number];
  const program = {
    variableNames: ['X'],
    outputShape: [Math.ceil(rows / 2)],
    packedInputs: true,
    userCode: `${GLSL_HELPERS}
      void main() {
        int r = getOutputCoords() * 2;
        bool lowerRow = r + 1 < ${rows};
        ${SUM_INIT}
        for (int c = 0; c < ${cols}; c += 2) {
          vec4 t = getX(r, c);
          bool right = c + 1 < ${cols};
          for (int k = 0; k < 4; k++) {
            if ((k == 1 || k == 3) && !right) continue;
            if (k >= 2 && !lowerRow) continue;
            float a = abs(t[k]);
            ${SUM_STEP}
          }
        }
        ${SUM_FINISH}
        setOutput(norm);
      }`,
  };
  return backend.runWebGLProgram(program, [x], 'float32');
}

interface WebGPUBackend {
  runWebGPUProgram(
    program: object,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
}

/** A tfjs-webgpu program over a flat output of `size` elements, 64 threads per workgroup. */
function webgpuProgram(shaderKey: string, variableNames: string[], outputShape: number[], uniforms: string, body: string) {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    shaderKey,
    variableNames,
    outputShape,
    size: true,
    uniforms,
    workgroupSize: [64, 1, 1] as [number, number, number],
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(size / 64), 1, 1] as [number, number, number],
    getUserCode: () => `${WGSL_HELPERS}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/**
 * Row norms of `x` (any shape, read flat) in rows of `row` elements — or, for a packed 2-D texture on webgl
 * (`row` 0), the norms of its pairs of rows.
 */
function rowNorms(backendName: string, backend: unknown, x: tf.TensorInfo, row: number): tf.TensorInfo {
  if (row === 0) return packedRowPairNorms(backend as WebGLBackend, x);
  const n = x.shape.reduce((a, b) => a * b, 1);
  const rows = Math.max(1, Math.ceil(n / row));
  if (backendName === 'webgl') {
    const program = {
      variableNames: ['X'],
      outputShape: [rows],
      userCode: `${GLSL_HELPERS}
        ${glslFlatGetter(x.shape)}
        void main() {
          int first = getOutputCoords() * ${row};
          int end = min(first + ${row}, ${n});
          ${SUM_INIT}
          for (int i = first; i < end; i++) {
            float a = abs(valueAt(i));
            ${SUM_STEP}
          }
          ${SUM_FINISH}
          setOutput(norm);
        }`,
    };
    return (backend as WebGLBackend).runWebGLProgram(program, [x], 'float32');
  }
  const program = webgpuProgram(
    'gradpipeRowNorms',
    ['X'],
    [rows],
    'rowLength : i32, n : i32,',
    `let first = index * uniforms.rowLength;
          let end = min(first + uniforms.rowLength, uniforms.n);
          ${toWgsl(SUM_INIT)}
          for (var i = first; i < end; i++) {
            let a = abs(X[i]);
            ${toWgsl(SUM_STEP)}
          }
          ${toWgsl(SUM_FINISH)
            .replace(/NAN_VALUE/g, 'uniforms.NAN')
            .replace(/INF_VALUE/g, 'uniforms.INFINITY')}
          setOutputAtIndex(index, norm);`,
  );
  return (backend as WebGPUBackend).runWebGPUProgram(program, [x], 'float32', [
    { type: 'int32', data: [row] },
    { type: 'int32', data: [n] },
  ]);
}

/** `[hi, lo, factor, clipped]` for `norm` and `threshold` (scalars): see {@link CLIP_MATH}. */
function clipFactor(backendName: string, backend: unknown, inputs: tf.NamedTensorInfoMap, slack: number, safety: number): tf.TensorInfo {
  if (backendName === 'webgl') {
    const program = {
      variableNames: ['Norm', 'Threshold'],
      outputShape: [4],
      customUniforms: [
        { name: 'slack', type: 'float' },
        { name: 'safety', type: 'float' },
      ],
      userCode: `${GLSL_HELPERS}
        void main() {
          int i = getOutputCoords();
          float n = getNorm();
          float t = getThreshold();
          bool clipped = n > t && !gpIsInf(n);
          ${CLIP_MATH}
          setOutput(i == 0 ? hi : i == 1 ? lo : i == 2 ? hi * lo : clipped ? 1.0 : 0.0);
        }`,
    };
    return (backend as WebGLBackend).runWebGLProgram(program, [inputs.norm!, inputs.threshold!], 'float32', [[slack], [safety]]);
  }
  const program = webgpuProgram(
    'gradpipeClipFactor',
    ['Norm', 'Threshold'],
    [4],
    'slack : f32, safety : f32,',
    `let n = Norm[0];
          let t = Threshold[0];
          let slack = uniforms.slack;
          let safety = uniforms.safety;
          let clipped = n > t && !gpIsInf(n);
          ${wgslClipMath}
          var values = array<f32, 4>(hi, lo, hi * lo, select(0.0, 1.0, clipped));
          setOutputAtIndex(index, values[index]);`,
  );
  return (backend as WebGPUBackend).runWebGPUProgram(program, [inputs.norm!, inputs.threshold!], 'float32', [
    { type: 'float32', data: [slack] },
    { type: 'float32', data: [safety] },
  ]);
}

/** `(x · hi) · lo` for the `[hi, lo, …]` of {@link clipFactor}. */
function clipScale(backendName: string, backend: unknown, x: tf.TensorInfo, factors: tf.TensorInfo): tf.TensorInfo {
  if (backendName === 'webgl') {
    // Packed where it can be (a tensor): the optimizer's ops read and write packed textures, so an unpacked
    // output would be packed again for each of them.
    const packed = x.shape.length > 0;
    const program = {
      variableNames: ['X', 'F'],
      outputShape: [...x.shape],
      packedInputs: packed,
      packedOutput: packed,
      // A factor of 1 copies: multiplying would flush float32 subnormals to zero (the contract wants them intact).
      userCode: packed
        ? `void main() { vec2 f = getF(0).xy; vec4 x = getXAtOutCoords(); setOutput(f == vec2(1.0) ? x : (x * f.x) * f.y); }`
        : `void main() { float x = getXAtOutCoords(); float hi = getF(0); float lo = getF(1); setOutput(hi == 1.0 && lo == 1.0 ? x : (x * hi) * lo); }`,
    };
    return (backend as WebGLBackend).runWebGLProgram(program, [x, factors], 'float32');
  }
  const program = webgpuProgram(
    'gradpipeClipScale',
    ['X', 'F'],
    [...x.shape],
    '',
    `let x = X[index];
          setOutputAtIndex(index, select((x * F[0]) * F[1], x, F[0] == 1.0 && F[1] == 1.0));`,
  );
  return (backend as WebGPUBackend).runWebGPUProgram(program, [x, factors], 'float32');
}

/** `previous` where the scalar `skip` is 1, else `next` (same shapes). */
function keep(backendName: string, backend: unknown, previous: tf.TensorInfo, next: tf.TensorInfo, skip: tf.TensorInfo): tf.TensorInfo {
  if (backendName === 'webgl') {
    const packed = previous.shape.length > 0;
    const program = {
      variableNames: ['Previous', 'Next', 'Skip'],
      outputShape: [...previous.shape],
      packedInputs: packed,
      packedOutput: packed,
      userCode: packed
        ? `void main() { setOutput(getSkip().x > 0.0 ? getPreviousAtOutCoords() : getNextAtOutCoords()); }`
        : `void main() { setOutput(getSkip() > 0.0 ? getPreviousAtOutCoords() : getNextAtOutCoords()); }`,
    };
    return (backend as WebGLBackend).runWebGLProgram(program, [previous, next, skip], 'float32');
  }
  const program = webgpuProgram(
    'gradpipeKeep',
    ['Previous', 'Next', 'Skip'],
    [...previous.shape],
    '',
    `setOutputAtIndex(index, select(Next[index], Previous[index], Skip[0] > 0.0));`,
  );
  return (backend as WebGPUBackend).runWebGPUProgram(program, [previous, next, skip], 'float32');
}

// Registered once, when this module loads (a second copy of it finds them registered).
for (const backendName of GPU_BACKENDS) {
  const kernels: Record<string, tf.KernelFunc> = {
    [ROW_NORMS]: ({ inputs, backend, attrs }) => rowNorms(backendName, backend, inputs.x!, (attrs as { row: number }).row),
    [CLIP_FACTOR]: ({ inputs, backend, attrs }) => {
      const { slack, safety } = attrs as { slack: number; safety: number };
      return clipFactor(backendName, backend, inputs, slack, safety);
    },
    [CLIP_SCALE]: ({ inputs, backend }) => clipScale(backendName, backend, inputs.x!, inputs.factors!),
    [KEEP]: ({ inputs, backend }) => keep(backendName, backend, inputs.previous!, inputs.next!, inputs.skip!),
  };
  for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}

/** A row length for `n` values: about √n, so both passes loop over about as many values, at most {@link MAX_ROW}. */
function rowLength(n: number): number {
  return n <= MAX_ROW ? Math.max(n, 1) : Math.min(MAX_ROW, Math.max(64, Math.ceil(Math.sqrt(n))));
}

/** True when `t` is a 2-D tensor in a packed webgl texture (read by {@link packedRowPairNorms}). */
function packedMatrix(t: tf.Tensor): boolean {
  if (t.rank !== 2 || t.size <= MAX_ROW || tf.getBackend() !== 'webgl') return false;
  return (tf.backend() as unknown as WebGLBackend).texData.get(t.dataId).isPacked === true;
}

/** ‖t‖₂ in two kernels (one for up to 4,096 values): overflow-free, NaN/Infinity as the entries say. */
export function gpuNorm(t: tf.Tensor): tf.Scalar {
  // A packed matrix's first pass reads its texels as they are (it leaves at least two row norms).
  let x: tf.Tensor = packedMatrix(t) ? (tf.engine().runKernel(ROW_NORMS, { x: t }, { row: 0 }) as tf.Tensor) : t;
  for (;;) {
    const row = rowLength(x.size);
    x = tf.engine().runKernel(ROW_NORMS, { x }, { row }) as tf.Tensor;
    if (x.size === 1) return tf.reshape(x, []) as tf.Scalar;
  }
}

/** The global L2 norm of tensors whose L2 norms are `norms`: their stack, one more row norm. */
export function gpuCombineNorms(norms: readonly tf.Scalar[]): tf.Scalar {
  return gpuNorm(tf.stack(norms as tf.Scalar[]));
}

/** The `[hi, lo, …]` pair of each clip factor made here, so that scaling by it is split (see {@link gpuScale}). */
const pairs = new WeakMap<tf.Tensor, tf.Tensor>();

/**
 * The clip factor of `norm` and `threshold` (TensorOps.clipFactor) and the clipped flag: one kernel, and two views
 * of its output. The factor remembers its `[hi, lo]` pair, so that {@link gpuScale} multiplies by both.
 */
export function gpuClipFactor(
  norm: tf.Scalar,
  threshold: tf.Scalar,
  slack: number,
  safety: number,
): { factor: tf.Scalar; clipped: tf.Scalar } {
  const all = tf.engine().runKernel(CLIP_FACTOR, { norm, threshold }, { slack, safety }) as tf.Tensor1D;
  const factor = tf.reshape(tf.slice(all, [2], [1]), []) as tf.Scalar;
  pairs.set(factor, all);
  return { factor, clipped: tf.reshape(tf.slice(all, [3], [1]), []) as tf.Scalar };
}

/** `t · factor`, as `(t · hi) · lo`, when the factor came from {@link gpuClipFactor}; else undefined. */
export function gpuScale(t: tf.Tensor, factor: tf.Tensor): tf.Tensor | undefined {
  const factors = pairs.get(factor);
  return factors && (tf.engine().runKernel(CLIP_SCALE, { x: t, factors }, {}) as tf.Tensor);
}

/** `skip ? previous : next` in one kernel (float32 tensors of one shape, `skip` a float 0/1 scalar). */
export function gpuKeep(previous: tf.Tensor, next: tf.Tensor, skip: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(KEEP, { previous, next, skip }, {}) as tf.Tensor;
}
