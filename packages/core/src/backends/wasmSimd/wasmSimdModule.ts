/**
 * The bytes of a small WebAssembly SIMD module holding the two L2 kernels and the clamp of the typed-array
 * backend, assembled here (the build has no .wat compiler). It imports its memory as `env.memory` and exports:
 *
 * - `sumOfSquares(ptr, n) → f64`: Σ x² over n float32 values at byte offset `ptr`.
 * - `scaleSumOfSquares(ptr, n, factor) → f64`: x ← float32(x · factor) in place, returning Σ y² of the stored values.
 * - `reset()`: zeroes the four accumulators.
 * - `clamp(ptr, n, above, below, hi, lo) → i32`: every x > `above` becomes `hi` and every x < `below` becomes
 *   `lo` (all float32), four at a time with `f32x4.gt`/`lt` and `v128.bitselect`, so other values — NaN payloads
 *   and -0 included — keep their bits; returns 1 when some value was replaced. See {@link clampBounds}.
 *
 * The accumulators live in globals and carry over from one call to the next until `reset`, so an array can be
 * fed in pieces (whose lengths are multiples of 4, except the last) with the same result, bit for bit, as in one
 * call; each call returns the total so far.
 *
 * The two L2 kernels are bit-identical to `kernels.ts`: four float64 accumulators a0…a3 fed with x[i], x[i+1],
 * x[i+2], x[i+3] (two f64x2 vectors, lanes in the same order), the tail added into a0, and the result
 * (a0 + a1) + (a2 + a3).
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
const F32 = 0x7d;
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
  globalGet: (index: number) => [0x23, ...uleb(index)],
  globalSet: (index: number) => [0x24, ...uleb(index)],
  f64Const0: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  load64Zero: (offset: number) => simd(0x5d, 3, ...uleb(offset)),
  store64Lane0: (offset: number) => simd(0x5b, 3, ...uleb(offset), 0),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f64x2Splat: simd(0x14),
  f64x2ExtractLane: (lane: number) => simd(0x21, lane),
  f64x2ReplaceLane: (lane: number) => simd(0x22, lane),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2PromoteLowF32x4: simd(0x5f),
  v128Load: (offset: number) => simd(0x00, 2, ...uleb(offset)),
  v128Store: (offset: number) => simd(0x0b, 2, ...uleb(offset)),
  f32x4Splat: simd(0x13),
  f32x4Lt: simd(0x43),
  f32x4Gt: simd(0x44),
  v128Or: simd(0x50),
  v128Bitselect: simd(0x52),
  v128AnyTrue: simd(0x53),
  i32Or: [0x72],
  f32Lt: [0x5d],
  f32Gt: [0x5e],
  if: [0x04, 0x40],
  else: [0x05],
};

/** `while (ptr < limit) { body; ptr += step }`, for locals `ptr` and `limit`. */
function whileBelow(ptr: number, limit: number, step: number, body: number[]): number[] {
  return [
    ...op.block, ...op.loop,
    ...op.get(ptr), ...op.get(limit), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...op.get(ptr), ...op.i32Const(step), ...op.i32Add, ...op.set(ptr),
    ...op.br(0),
    ...op.end, ...op.end,
  ];
}

/** `end = ptr + (n & ~3) * 4; stop = ptr + n * 4`: where the groups of four floats end, and where all do. */
function setEnds(ptr: number, n: number, end: number, stop: number): number[] {
  return [
    ...op.get(ptr), ...op.get(n), ...op.i32Const(-4), ...op.i32And, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(end),
    ...op.get(ptr), ...op.get(n), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(stop),
  ];
}

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

  const code = [
    ...vector([[2, I32], [5, V128], [1, F64]]),
    ...setEnds(PTR, N, END, STOP),
    // Start from the accumulators a0…a3 left by the previous call (globals 0…3).
    ...op.globalGet(0), ...op.f64x2Splat, ...op.globalGet(1), ...op.f64x2ReplaceLane(1), ...op.set(ACC01),
    ...op.globalGet(2), ...op.f64x2Splat, ...op.globalGet(3), ...op.f64x2ReplaceLane(1), ...op.set(ACC23),
    ...(fused ? [...op.get(FACTOR), ...op.f64x2Splat, ...op.set(FACTORS)] : []),
    ...whileBelow(PTR, END, 16, [...pair(0, ACC01), ...pair(8, ACC23)]),
    // The tail goes into a0, as in the JS kernels.
    ...op.get(ACC01), ...op.f64x2ExtractLane(0), ...op.set(A0),
    ...whileBelow(PTR, STOP, 4, single),
    // Keep the accumulators for the next call, and return (a0 + a1) + (a2 + a3).
    ...op.get(A0), ...op.globalSet(0),
    ...op.get(ACC01), ...op.f64x2ExtractLane(1), ...op.globalSet(1),
    ...op.get(ACC23), ...op.f64x2ExtractLane(0), ...op.globalSet(2),
    ...op.get(ACC23), ...op.f64x2ExtractLane(1), ...op.globalSet(3),
    ...op.get(A0), ...op.get(ACC01), ...op.f64x2ExtractLane(1), ...op.f64Add,
    ...op.get(ACC23), ...op.f64x2ExtractLane(0), ...op.get(ACC23), ...op.f64x2ExtractLane(1), ...op.f64Add,
    ...op.f64Add,
    ...op.end,
  ];
  return [...uleb(code.length), ...code];
}

/** `reset()`: a0 = a1 = a2 = a3 = 0. */
function reset(): number[] {
  const code = [...vector([]), ...[0, 1, 2, 3].flatMap((g) => [...op.f64Const0, ...op.globalSet(g)]), ...op.end];
  return [...uleb(code.length), ...code];
}

/** `clamp(ptr, n, above, below, hi, lo) → i32`. */
function clamp(): number[] {
  const [PTR, N, ABOVE, BELOW, HI, LO] = [0, 1, 2, 3, 4, 5];
  // Locals: END, STOP, CHANGED (i32); ABOVE4, BELOW4, HI4, LO4, V, GT, LT, ANY (v128).
  const [END, STOP, CHANGED, ABOVE4, BELOW4, HI4, LO4, V, GT, LT, ANY] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const code = [
    ...vector([[3, I32], [8, V128]]),
    ...setEnds(PTR, N, END, STOP),
    ...op.get(ABOVE), ...op.f32x4Splat, ...op.set(ABOVE4),
    ...op.get(BELOW), ...op.f32x4Splat, ...op.set(BELOW4),
    ...op.get(HI), ...op.f32x4Splat, ...op.set(HI4),
    ...op.get(LO), ...op.f32x4Splat, ...op.set(LO4),
    // Four floats at a time: x > above → hi, x < below → lo, else x (its bits untouched).
    ...whileBelow(PTR, END, 16, [
      ...op.get(PTR), ...op.v128Load(0), ...op.set(V),
      ...op.get(V), ...op.get(ABOVE4), ...op.f32x4Gt, ...op.set(GT),
      ...op.get(V), ...op.get(BELOW4), ...op.f32x4Lt, ...op.set(LT),
      ...op.get(ANY), ...op.get(GT), ...op.get(LT), ...op.v128Or, ...op.v128Or, ...op.set(ANY),
      ...op.get(PTR),
      ...op.get(HI4), ...op.get(LO4), ...op.get(V), ...op.get(LT), ...op.v128Bitselect, ...op.get(GT), ...op.v128Bitselect,
      ...op.v128Store(0),
    ]),
    // The tail, one float at a time.
    ...whileBelow(PTR, STOP, 4, [
      ...op.get(PTR), ...op.f32Load, ...op.get(ABOVE), ...op.f32Gt,
      ...op.if,
      ...op.get(PTR), ...op.get(HI), ...op.f32Store, ...op.i32Const(1), ...op.set(CHANGED),
      ...op.else,
      ...op.get(PTR), ...op.f32Load, ...op.get(BELOW), ...op.f32Lt,
      ...op.if,
      ...op.get(PTR), ...op.get(LO), ...op.f32Store, ...op.i32Const(1), ...op.set(CHANGED),
      ...op.end,
      ...op.end,
    ]),
    ...op.get(ANY), ...op.v128AnyTrue, ...op.get(CHANGED), ...op.i32Or,
    ...op.end,
  ];
  return [...uleb(code.length), ...code];
}

/**
 * The float32 arguments of `clamp` that reproduce the JS kernel `x > max ? max : x < min ? min : x` (compared in
 * float64, stored as float32) exactly: for a float32 x, `x > max` exactly when x is above the largest float32
 * ≤ max, and `x < min` exactly when x is below the smallest float32 ≥ min; the stored bounds are max and min
 * rounded to float32, as a `Float32Array` store rounds them.
 */
export function clampBounds(min: number, max: number): { above: number; below: number; hi: number; lo: number } {
  const hi = Math.fround(max);
  const lo = Math.fround(min);
  return { above: hi > max ? nextFloat32(hi, -1) : hi, below: lo < min ? nextFloat32(lo, 1) : lo, hi, lo };
}

const bits = new Float32Array(1);
const asInt = new Int32Array(bits.buffer);

/** The float32 next to the float32 `x` towards +∞ (`direction` 1) or −∞ (−1). */
function nextFloat32(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * 2 ** -149;
  bits[0] = x;
  asInt[0]! += (x > 0 ? 1 : -1) * direction;
  return bits[0]!;
}

/** The module: imports `env.memory`; exports `sumOfSquares`, `scaleSumOfSquares`, `reset` and `clamp`. */
export function wasmSimdModuleBytes(): Uint8Array {
  const types = section(1, vector([
    [0x60, ...vector([[I32], [I32]]), ...vector([[F64]])],
    [0x60, ...vector([[I32], [I32], [F64]]), ...vector([[F64]])],
    [0x60, ...vector([]), ...vector([])],
    [0x60, ...vector([[I32], [I32], [F32], [F32], [F32], [F32]]), ...vector([[I32]])],
  ]));
  const imports = section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(0)]]));
  const functions = section(3, vector([[0], [1], [2], [3]]));
  // Four mutable f64 globals, the accumulators, starting at 0.
  const globals = section(6, vector([0, 1, 2, 3].map(() => [F64, 0x01, ...op.f64Const0, ...op.end])));
  const exports = section(7, vector([
    [...name('sumOfSquares'), 0x00, 0],
    [...name('scaleSumOfSquares'), 0x00, 1],
    [...name('reset'), 0x00, 2],
    [...name('clamp'), 0x00, 3],
  ]));
  const code = section(10, vector([kernel(false), kernel(true), reset(), clamp()]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...functions, ...globals, ...exports, ...code]);
}
