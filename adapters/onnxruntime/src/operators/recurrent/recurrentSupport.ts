import type { GradientContext, ShapeContext } from '../../autodiff/OperatorRule.js';
import type { GraphBuilder } from '../../onnx/GraphBuilder.js';
import { DataType } from '../../onnx/onnxProto.js';
import type { TensorInfo } from '../../shapes/TensorInfo.js';

/**
 * How the recurrent rules work. ONNX Runtime runs the forward pass with its own fused LSTM/GRU/RNN kernel;
 * the backward pass is built from standard operators:
 *
 * 1. Every hidden state is known from the output Y, so the gate pre-activations of all time steps are
 *    recomputed at once: `X·Wᵀ + H_prev·Rᵀ + b`, two batched MatMuls over [T, B, …] (LSTM's cell state, a
 *    linear recurrence, takes one cheap Scan).
 * 2. The backward recurrence — the one part that cannot be batched — is one Scan over time in reverse: per step
 *    a few element-wise operators and one [B, gates·H] × [gates·H, H] MatMul.
 * 3. The weight gradients are then batched again: `dGatesᵀ·X`, `dGatesᵀ·H_prev`, sums for the biases, and
 *    `dGates·W` for the input.
 *
 * Directions are handled one at a time; a reverse direction is a forward one on time-reversed sequences.
 */

/** The cell types' gate counts and default activations. */
export const CELLS = {
  LSTM: { gates: 4, activations: ['Sigmoid', 'Tanh', 'Tanh'] },
  GRU: { gates: 3, activations: ['Sigmoid', 'Tanh'] },
  RNN: { gates: 1, activations: ['Tanh'] },
} as const;
export type CellType = keyof typeof CELLS;

/** One direction of a recurrent node, in processing order (a reverse direction's sequences are flipped). */
export interface Direction {
  /** Index into the directions axis. */
  index: number;
  /** Whether this direction runs from the last time step to the first. */
  reverse: boolean;
  /** Input sequence [T, B, I], in processing order. */
  x: string;
  /** W, R of this direction: [gates·H, I] and [gates·H, H]. */
  w: string;
  r: string;
  /** The input and recurrent biases of this direction, [gates·H] each (undefined without B). */
  wb: string | undefined;
  rb: string | undefined;
  /** Hidden states H_t [T, B, H] in processing order, and H_{t−1} (the initial state first). */
  h: string;
  hPrev: string;
  /** The initial hidden state [B, H]. */
  h0: string;
  /** The gradient arriving at each H_t from Y, [T, B, H] in processing order (zeros when none arrives). */
  dY: string;
  /** The gradient arriving at the last hidden state (Y_h), [B, H], or zeros. */
  dLastH: string;
  /** LSTM: the gradient arriving at the last cell state (Y_c), [B, H], or zeros. */
  dLastC: string | undefined;
  /** LSTM: the initial cell state [B, H]. */
  c0: string | undefined;
  /** The direction's activations, by cell position (LSTM: f, g, h; GRU: f, g; RNN: f). */
  activations: string[];
}

/** What a cell's backward pass returns for one direction, in processing order. */
export interface CellGradients {
  /** Gradient of the gate pre-activations fed by W·x (+ Wb), [T, B, gates·H]. */
  dGatesX: string;
  /** Gradient of R·h (+ Rb) per gate, [T, B, gates·H]. */
  dGatesH: string;
  /** dR [gates·H, H], when not simply dGatesHᵀ·H_prev (GRU without linear_before_reset). */
  dR?: string;
  /** Gradient of the initial hidden state and (LSTM) cell state, [B, H]. */
  dH0: string;
  dC0?: string;
}

const INT64_MIN = -(2 ** 63);
const FLOAT = DataType.FLOAT;

/** A time-reversed copy of a sequence (axis 0). */
export function reverseTime(b: GraphBuilder, t: string): string {
  return b.slice(t, [-1], [INT64_MIN], [0], [-1]);
}

/** f(x) for the activations the recurrent rules support. */
export function activate(c: GradientContext, name: string, x: string): string {
  switch (name) {
    case 'Sigmoid':
    case 'Tanh':
    case 'Relu':
      return c.b.op(name, [x]);
    default:
      return c.fail(`activation ${name} is not supported (supported: Sigmoid, Tanh, Relu)`);
  }
}

/** f′ written from the activation's output y = f(x). */
export function slopeFromOutput(c: GradientContext, name: string, y: string): string {
  const b = c.b;
  switch (name) {
    case 'Sigmoid':
      return b.op('Mul', [y, b.op('Sub', [b.scalar(1), y])]);
    case 'Tanh':
      return b.op('Sub', [b.scalar(1), b.op('Mul', [y, y])]);
    case 'Relu':
      return b.toFloat(b.op('Greater', [y, b.scalar(0)]));
    default:
      return c.fail(`activation ${name} is not supported (supported: Sigmoid, Tanh, Relu)`);
  }
}

/** The part of a [D, …] tensor for direction `d`, without the directions axis. */
function directionPart(b: GraphBuilder, t: string, d: number, axis = 0): string {
  return b.squeeze(b.slice(t, [d], [d + 1], [axis]), [axis]);
}

/** Refuses what the rules do not handle, then reads the node's directions. */
export function readDirections(c: GradientContext, cell: CellType): Direction[] {
  const b = c.b;
  const [x, w, r, bias, seqLens, h0In, c0In] = c.x;
  const lstm = cell === 'LSTM';
  if (seqLens) c.fail('sequence_lens is not supported: pad the sequences to one length instead');
  if (lstm && c.x[7]) c.fail('peephole weights (input P) are not supported');
  if (c.attr.int('layout', 0) !== 0)
    c.fail('layout 1 (batch first) is not supported: transpose to [T, B, I] before the node, as PyTorch exports do');
  if (c.attr.has('clip')) c.fail('the clip attribute is not supported');
  if (lstm && c.attr.int('input_forget', 0) !== 0) c.fail('input_forget is not supported');
  if (c.attr.has('activation_alpha') || c.attr.has('activation_beta')) c.fail('activation_alpha and activation_beta are not supported');
  const direction = c.attr.string('direction', 'forward');
  const count = direction === 'bidirectional' ? 2 : 1;
  const perDirection = CELLS[cell].activations.length;
  const activations = c.attr.strings('activations') ?? Array.from({ length: count }, () => CELLS[cell].activations).flat();
  if (activations.length !== perDirection * count) c.fail(`needs ${perDirection * count} activations, got ${activations.length}`);

  const gates = CELLS[cell].gates;
  const hidden = c.attr.int('hidden_size', 0) || c.fail('needs hidden_size');
  const y = c.output(0); // the hidden states of every step: added to the node when the model only reads Y_h
  const dY = c.dy[0];
  const zerosOf = (like: string) => b.zerosLike(like);
  return Array.from({ length: count }, (_, d) => {
    const reverse = direction === 'reverse' || d === 1;
    const ordered = (t: string) => (reverse ? reverseTime(b, t) : t);
    const h = ordered(directionPart(b, y, d, 1));
    const zeroState = () => b.zerosLike(b.squeeze(b.slice(h, [0], [1], [0]), [0]));
    const h0 = h0In ? directionPart(b, h0In, d) : zeroState();
    const hPrev = b.op('Concat', [b.unsqueeze(h0, [0]), b.slice(h, [0], [-1], [0])], { axis: 0 }, 'h_prev');
    const biasPart = bias ? directionPart(b, bias, d) : undefined;
    return {
      index: d,
      reverse,
      x: ordered(x!),
      w: directionPart(b, w!, d),
      r: directionPart(b, r!, d),
      wb: biasPart && b.slice(biasPart, [0], [gates * hidden], [0]),
      rb: biasPart && b.slice(biasPart, [gates * hidden], [2 * gates * hidden], [0]),
      h,
      hPrev,
      h0,
      dY: dY ? ordered(directionPart(b, dY, d, 1)) : zerosOf(h),
      dLastH: c.dy[1] ? directionPart(b, c.dy[1], d) : zerosOf(h0),
      dLastC: lstm ? (c.dy[2] ? directionPart(b, c.dy[2], d) : zerosOf(h0)) : undefined,
      c0: lstm ? (c0In ? directionPart(b, c0In, d) : zeroState()) : undefined,
      activations: activations.slice(d * perDirection, (d + 1) * perDirection),
    };
  });
}

/** `a·Bᵀ` for a sequence a [T, B, K] and a matrix B [N, K]: [T, B, N]. */
export function timesTransposed(b: GraphBuilder, a: string, m: string): string {
  return b.op('MatMul', [a, b.transpose(m, [1, 0])]);
}

/** Σ over time and batch of a [T, B, N] sequence: [N]. */
export function sumOverSteps(b: GraphBuilder, t: string): string {
  return b.reduceSum(t, [0, 1], false);
}

/** `aᵀ·c` summed over time and batch for sequences a [T, B, N] and c [T, B, K]: [N, K]. */
export function outerOverSteps(b: GraphBuilder, a: string, c: string): string {
  const a2 = b.op('Flatten', [a], { axis: 2 });
  const c2 = b.op('Flatten', [c], { axis: 2 });
  return b.op('Gemm', [a2, c2], { transA: 1 }, 'recurrent_weight_grad');
}

/**
 * A Scan over time, in reverse unless `reverse` is false: `states` start from `initial`, `step` maps the states
 * and one time step of each sequence to the next states and the step's outputs. Outputs are stacked in time
 * order whichever way the scan runs.
 */
export function scanOverTime(
  b: GraphBuilder,
  initial: readonly string[],
  sequences: readonly string[],
  outputs: number,
  step: (sub: GraphBuilder, states: string[], slices: string[]) => { states: string[]; outputs: string[] },
  reverse = true,
): { states: string[]; outputs: string[] } {
  const stateNames = initial.map(() => b.fresh('scan_state'));
  const sliceNames = sequences.map(() => b.fresh('scan_in'));
  const body = b.subgraph(
    'recurrent_backward',
    [...stateNames, ...sliceNames].map((name) => ({ name, type: FLOAT })),
    (sub) => {
      const next = step(sub, stateNames, sliceNames);
      return [...next.states, ...next.outputs].map((name) => ({ name, type: FLOAT }));
    },
  );
  const direction = reverse ? 1 : 0;
  const results = b.ops(
    'Scan',
    [...initial, ...sequences],
    initial.length + outputs,
    {
      body: { graph: body },
      num_scan_inputs: sequences.length,
      scan_input_directions: sequences.map(() => direction),
      scan_output_directions: Array.from({ length: outputs }, () => direction),
    },
    'scan',
  );
  return { states: results.slice(0, initial.length), outputs: results.slice(initial.length) };
}

/** Assembles the node's input gradients from each direction's cell gradients. */
export function assemble(c: GradientContext, dirs: Direction[], grads: CellGradients[]): (string | undefined)[] {
  const b = c.b;
  const stack = (parts: string[]) =>
    parts.length === 1
      ? b.unsqueeze(parts[0]!, [0])
      : b.op(
          'Concat',
          parts.map((p) => b.unsqueeze(p, [0])),
          { axis: 0 },
        );
  const dx = c.needs(0)
    ? b.sum(
        dirs.map((d, i) => {
          const g = b.op('MatMul', [grads[i]!.dGatesX, d.w], {}, 'recurrent_input_grad');
          return d.reverse ? reverseTime(b, g) : g;
        }),
      )
    : undefined;
  const dw = c.needs(1) ? stack(dirs.map((d, i) => outerOverSteps(b, grads[i]!.dGatesX, d.x))) : undefined;
  const dr = c.needs(2) ? stack(dirs.map((d, i) => grads[i]!.dR ?? outerOverSteps(b, grads[i]!.dGatesH, d.hPrev))) : undefined;
  const dbias =
    c.x[3] && c.needs(3)
      ? stack(dirs.map((_, i) => b.op('Concat', [sumOverSteps(b, grads[i]!.dGatesX), sumOverSteps(b, grads[i]!.dGatesH)], { axis: 0 })))
      : undefined;
  const dh0 = c.x[5] && c.needs(5) ? stack(grads.map((g) => g.dH0)) : undefined;
  const dc0 = c.x[6] && c.needs(6) ? stack(grads.map((g) => g.dC0!)) : undefined;
  return [dx, dw, dr, dbias, undefined, dh0, dc0];
}

/** Output shapes: Y [T, D, B, H], Y_h and Y_c [D, B, H] (layout 0), or batch first (layout 1). */
export function recurrentShape(c: ShapeContext): TensorInfo[] {
  const x = c.input(0);
  const hidden = c.attr.int('hidden_size', 0) || undefined;
  const directions = c.attr.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const type = x.type;
  if (x.shape?.length !== 3) return [{ type }, { type }, { type }];
  const batchFirst = c.attr.int('layout', 0) === 1;
  const [steps, batch] = batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  const y = batchFirst ? [batch, steps, directions, hidden] : [steps, directions, batch, hidden];
  const last = batchFirst ? [batch, directions, hidden] : [directions, batch, hidden];
  return [
    { type, shape: y },
    { type, shape: last },
    { type, shape: last },
  ];
}
