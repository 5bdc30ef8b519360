/**
 * The bytes of a small WebAssembly SIMD module holding the two L2 kernels of the typed-array backend, assembled
 * here (the build has no .wat compiler). It imports its memory as `env.memory` and exports:
 *
 * - `sumOfSquares(ptr, n) → f64`: Σ x² over n float32 values at byte offset `ptr`.
 * - `scaleSumOfSquares(ptr, n, factor) → f64`: x ← float32(x · factor) in place, returning Σ y² of the stored values.
 *
 * Both are bit-identical to `kernels.ts`: four float64 accumulators a0…a3 fed with x[i], x[i+1], x[i+2], x[i+3]
 * (two f64x2 vectors, lanes in the same order), the tail added into a0, and the result (a0 + a1) + (a2 + a3).
 * `f64x2.mul` then `f32x4.demote_f64x2_zero` rounds once from float64 to float32, as `x[i] = x[i] * factor` does
 * in JavaScript, and WebAssembly never fuses a multiply-add. Each iteration loads two pairs of floats with
 * `v128.load64_zero` and widens them with `f64x2.promote_low_f32x4`.
 */

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (text: string): number[] => {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
};

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const simd = (opcode: number, ...immediates: number[]): number[] => [0xfd, ...uleb(opcode), ...immediates];

/** The instructions used, by name. Memory immediates: alignment exponent, then offset. */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Const: (value: number) => [0x41, ...sleb(value)],
  i32Add: [0x6a],
  i32Shl: [0x74],
  i32And: [0x71],
  i32GeU: [0x4f],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  load64Zero: (offset: number) => simd(0x5d, 3, ...uleb(offset)),
  store64Lane0: (offset: number) => simd(0x5b, 3, ...uleb(offset), 0),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number) => simd(0x21, lane),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2PromoteLowF32x4: simd(0x5f),
};

/** One kernel's code entry. Params: ptr, n (, factor). */
function kernel(fused: boolean): number[] {
  const [PTR, N, FACTOR] = [0, 1, 2];
  const first = fused ? 3 : 2;
  // Locals: END, STOP (i32); ACC01, ACC23, FACTORS, PAIR, SQUARE (v128); A0 (f64).
  const [END, STOP, ACC01, ACC23, FACTORS, PAIR, SQUARE, A0] = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => first + k) as [
    number, number, number, number, number, number, number, number,
  ];

  /** The float pair at byte `offset` from PTR, into accumulator `acc` (and, fused, scaled and stored back). */
  const pair = (offset: number, acc: number): number[] => [
    ...(fused
      ? [
          ...op.get(PTR),
          ...op.get(PTR), ...op.load64Zero(offset), ...op.f64x2PromoteLowF32x4,
          ...op.get(FACTORS), ...op.f64x2Mul, ...op.f32x4DemoteF64x2Zero, ...op.tee(PAIR),
          ...op.store64Lane0(offset),
          ...op.get(PAIR),
        ]
      : [...op.get(PTR), ...op.load64Zero(offset)]),
    ...op.f64x2PromoteLowF32x4, ...op.tee(SQUARE), ...op.get(SQUARE), ...op.f64x2Mul,
    ...op.get(acc), ...op.f64x2Add, ...op.set(acc),
  ];

  /** One float at PTR into A0 (fused: scaled and stored first, then read back as stored). */
  const single = [
    ...(fused
      ? [...op.get(PTR), ...op.get(PTR), ...op.f32Load, ...op.f64PromoteF32, ...op.get(FACTOR), ...op.f64Mul, ...op.f32DemoteF64, ...op.f32Store]
      : []),
    ...op.get(PTR), ...op.f32Load, ...op.f64PromoteF32,
    ...op.get(PTR), ...op.f32Load, ...op.f64PromoteF32,
    ...op.f64Mul,
    ...op.get(A0), ...op.f64Add, ...op.set(A0),
  ];

  /** while (PTR < limit) { body; PTR += step } */
  const loop = (limit: number, step: number, body: number[]): number[] => [
    ...op.block, ...op.loop,
    ...op.get(PTR), ...op.get(limit), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...op.get(PTR), ...op.i32Const(step), ...op.i32Add, ...op.set(PTR),
    ...op.br(0),
    ...op.end, ...op.end,
  ];

  const code = [
    ...vector([[2, I32], [5, V128], [1, F64]]),
    // END = PTR + (n & ~3) * 4; STOP = PTR + n * 4
    ...op.get(PTR), ...op.get(N), ...op.i32Const(-4), ...op.i32And, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(END),
    ...op.get(PTR), ...op.get(N), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(STOP),
    ...op.v128Zero, ...op.set(ACC01),
    ...op.v128Zero, ...op.set(ACC23),
    ...(fused ? [...op.get(FACTOR), ...op.f64x2Splat, ...op.set(FACTORS)] : []),
    ...loop(END, 16, [...pair(0, ACC01), ...pair(8, ACC23)]),
    // The tail goes into a0, as in the JS kernels.
    ...op.get(ACC01), ...op.f64x2ExtractLane(0), ...op.set(A0),
    ...loop(STOP, 4, single),
    // (a0 + a1) + (a2 + a3)
    ...op.get(A0), ...op.get(ACC01), ...op.f64x2ExtractLane(1), ...op.f64Add,
    ...op.get(ACC23), ...op.f64x2ExtractLane(0), ...op.get(ACC23), ...op.f64x2ExtractLane(1), ...op.f64Add,
    ...op.f64Add,
    ...op.end,
  ];
  return [...uleb(code.length), ...code];
}

/** The module: imports `env.memory`; exports `sumOfSquares` and `scaleSumOfSquares`. */
export function wasmSimdModuleBytes(): Uint8Array {
  const types = section(1, vector([
    [0x60, ...vector([[I32], [I32]]), ...vector([[F64]])],
    [0x60, ...vector([[I32], [I32], [F64]]), ...vector([[F64]])],
  ]));
  const imports = section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(0)]]));
  const functions = section(3, vector([[0], [1]]));
  const exports = section(7, vector([
    [...name('sumOfSquares'), 0x00, 0],
    [...name('scaleSumOfSquares'), 0x00, 1],
  ]));
  const code = section(10, vector([kernel(false), kernel(true)]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...functions, ...exports, ...code]);
}
