import type { GradientContext, OperatorRule, ShapeContext } from '../autodiff/OperatorRule.js';
import type { Dim } from '../shapes/Dim.js';
import type { TensorInfo } from '../shapes/TensorInfo.js';
import { broadcastShapes, isStatic } from '../shapes/TensorInfo.js';
import { dimsOf } from './support/dims.js';
import { sumToShape, unbroadcast } from './support/sumToShape.js';

/** α·op(P)·op(Q) as one Gemm. */
function gemm(c: GradientContext, p: string, q: string, transP: number, transQ: number, alpha: number): string {
  return c.b.op('Gemm', [p, q], { transA: transP, transB: transQ, alpha: { float: alpha } }, 'gemm_grad');
}

function gemmGrad(c: GradientContext): (string | undefined)[] {
  const alpha = c.attr.float('alpha', 1);
  const beta = c.attr.float('beta', 1);
  const transA = c.attr.int('transA', 0);
  const transB = c.attr.int('transB', 0);
  const [a, b, bias] = c.x;
  const dy = c.dy[0]!;
  // Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise. Each gradient is itself one Gemm.
  const da = !c.needs(0) ? undefined : transA ? gemm(c, b!, dy, transB, 1, alpha) : gemm(c, dy, b!, 0, 1 - transB, alpha);
  const db = !c.needs(1) ? undefined : transB ? gemm(c, dy, a!, 1, transA, alpha) : gemm(c, a!, dy, 1 - transA, 0, alpha);
  let dc: string | undefined;
  if (bias && c.needs(2)) dc = unbroadcast(c, beta === 1 ? dy : c.b.op('Mul', [dy, c.b.scalar(beta)]), 2);
  return [da, db, dc];
}

/** MatMul's output shape, with numpy's rules for 1-D operands and broadcast batch dims. */
function matMulShape(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): Dim[] | undefined {
  if (!a || !b || a.length === 0 || b.length === 0) return undefined;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return undefined;
  return [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(b.length === 1 ? [] : [b2[b2.length - 1]])];
}

function matMulGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const [a, w] = [c.x[0]!, c.x[1]!];
  const [sa, sw] = [c.shape(a), c.shape(w)];
  if (!sa || !sw) c.fail('needs the ranks of both inputs');
  // numpy's rule: a 1-D left operand is a row [1, k], a 1-D right operand a column [k, 1]; the added axis
  // is dropped from the result. Lift both, differentiate the ≥2-D product, and drop the axis again.
  const liftA = sa.length === 1;
  const liftW = sw.length === 1;
  const a2 = liftA ? b.unsqueeze(a, [0]) : a;
  const w2 = liftW ? b.unsqueeze(w, [1]) : w;
  const sa2 = liftA ? [1, sa[0]] : sa;
  const sw2 = liftW ? [sw[0], 1] : sw;
  const dy = c.dy[0]!;
  const dy2 = liftA && liftW ? b.reshape(dy, [1, 1]) : liftA ? b.unsqueeze(dy, [-2]) : liftW ? b.unsqueeze(dy, [-1]) : dy;
  const back = (g: string, lifted: boolean, x: string, shape: readonly Dim[]) =>
    lifted ? b.reshape(g, isStatic(shape) ? shape : dimsOf(c, x)) : g;

  if (sa2.length === 2 && sw2.length === 2) {
    const da = c.needs(0) ? back(gemm(c, dy2, w2, 0, 1, 1), liftA, a, sa) : undefined;
    const dw = c.needs(1) ? back(gemm(c, a2, dy2, 1, 0, 1), liftW, w, sw) : undefined;
    return [da, dw];
  }
  const swap = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const batch = broadcastShapes([sa2.slice(0, -2), sw2.slice(0, -2)]);
  let da: string | undefined;
  let dw: string | undefined;
  if (c.needs(0)) {
    const full = b.op('MatMul', [dy2, b.transpose(w2, swap(sw2.length))], {}, 'matmul_grad');
    const fullShape = batch && [...batch, sa2[sa2.length - 2], sa2[sa2.length - 1]];
    da = back(sumToShape(b, full, fullShape, a2, sa2), liftA, a, sa);
  }
  if (c.needs(1)) {
    const full = b.op('MatMul', [b.transpose(a2, swap(sa2.length)), dy2], {}, 'matmul_grad');
    const fullShape = batch && [...batch, sw2[sw2.length - 2], sw2[sw2.length - 1]];
    dw = back(sumToShape(b, full, fullShape, w2, sw2), liftW, w, sw);
  }
  return [da, dw];
}

/** An einsum equation with its ellipses spelled out as letters, given the operands' ranks. */
export interface EinsumTerms {
  inputs: string[];
  output: string;
  /** Letters that stand for an ellipsis (they may broadcast). */
  ellipsis: string;
}

/** Parses an einsum equation (explicit `->` or implicit output), expanding `...` to letters; undefined if it cannot. */
export function parseEinsum(equation: string, ranks: readonly (number | undefined)[]): EinsumTerms | undefined {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) return undefined;
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ''));
  const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'].filter((l) => !used.has(l));
  // Ellipsis dims align from the right, like broadcasting: the widest ellipsis's letters name them all.
  const ellipsisRanks: number[] = [];
  for (let i = 0; i < terms.length; i++) {
    if (!terms[i]!.includes('...')) continue;
    const rank = ranks[i];
    if (rank === undefined) return undefined;
    ellipsisRanks[i] = rank - (terms[i]!.length - 3);
  }
  const widest = Math.max(0, ...ellipsisRanks.filter((n) => n !== undefined));
  const ellipsis = free.slice(0, widest).join('');
  const expanded = terms.map((t, i) => (t.includes('...') ? t.replace('...', ellipsis.slice(widest - ellipsisRanks[i]!)) : t));
  let output: string;
  if (rhs !== undefined) {
    output = rhs.replace('...', ellipsis);
  } else {
    const counts = new Map<string, number>();
    for (const l of expanded.join('')) counts.set(l, (counts.get(l) ?? 0) + 1);
    output =
      ellipsis +
      [...counts]
        .filter(([l, n]) => n === 1 && !ellipsis.includes(l))
        .map(([l]) => l)
        .sort()
        .join('');
  }
  return { inputs: expanded, output, ellipsis };
}

function einsumShape(c: ShapeContext): TensorInfo[] {
  const inputs = Array.from({ length: c.inputCount }, (_, i) => c.input(i));
  const type = inputs[0]?.type;
  const terms = parseEinsum(
    c.attr.string('equation', ''),
    inputs.map((x) => x.shape?.length),
  );
  if (!terms || inputs.some((x) => !x.shape)) return [{ type }];
  const size = new Map<string, Dim>();
  terms.inputs.forEach((t, i) =>
    [...t].forEach((l, j) => {
      const d = inputs[i]!.shape![j];
      const known = size.get(l);
      if (known === undefined || known === 1 || (typeof d === 'number' && d !== 1)) size.set(l, d);
    }),
  );
  return [{ type, shape: [...terms.output].map((l) => size.get(l)) }];
}

function einsumGrad(c: GradientContext): (string | undefined)[] {
  const b = c.b;
  const equation = c.attr.string('equation', '');
  const terms = parseEinsum(
    equation,
    c.x.map((x) => c.shape(x)?.length),
  );
  if (!terms) c.fail(`needs the ranks of its inputs to read the equation ${JSON.stringify(equation)}`);
  return c.x.map((x, k) => {
    if (!c.needs(k)) return undefined;
    const mine = terms.inputs[k]!;
    if (new Set(mine).size !== mine.length)
      c.fail(`a repeated index in one operand (a diagonal, ${JSON.stringify(equation)}) is not supported`);
    // d/dX_k: contract dY with the other operands onto X_k's indices. An index of X_k found nowhere else was
    // summed over X_k alone, so its gradient is constant along it: computed without it, then expanded.
    const others = terms.inputs.filter((_, j) => j !== k);
    const elsewhere = new Set([...terms.output, ...others.join('')]);
    const kept = [...mine].filter((l) => elsewhere.has(l)).join('');
    const operands = [c.dy[0]!, ...c.x.filter((_, j) => j !== k)];
    let g = b.op('Einsum', operands, { equation: { string: `${[terms.output, ...others].join(',')}->${kept}` } }, 'einsum_grad');
    const missing = [...mine].map((l, i) => (elsewhere.has(l) ? -1 : i)).filter((i) => i >= 0);
    if (missing.length) g = b.op('Expand', [b.unsqueeze(g, missing), dimsOf(c, x)]);
    // Ellipsis dims of size 1 were broadcast: sum the gradient back over them.
    if (terms.ellipsis && [...mine].some((l) => terms.ellipsis.includes(l))) g = sumToShape(b, g, undefined, x, c.shape(x));
    return g;
  });
}

/** Matrix products. */
export const linearAlgebraRules = {
  Gemm: {
    differentiable: [0, 1, 2],
    shape(c) {
      const [a, w] = [c.input(0).shape, c.input(1).shape];
      const type = c.input(0).type;
      if (!a || !w || a.length !== 2 || w.length !== 2) return [{ type }];
      return [{ type, shape: [c.attr.int('transA', 0) ? a[1] : a[0], c.attr.int('transB', 0) ? w[0] : w[1]] }];
    },
    grad: gemmGrad,
  },
  MatMul: {
    differentiable: [0, 1],
    shape: (c) => [{ type: c.input(0).type, shape: matMulShape(c.input(0).shape, c.input(1).shape) }],
    grad: matMulGrad,
  },
  Einsum: { differentiable: [0, 1, 2, 3, 4, 5, 6, 7], shape: einsumShape, grad: einsumGrad },
} satisfies Record<string, OperatorRule>;
