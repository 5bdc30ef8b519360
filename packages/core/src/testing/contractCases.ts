import { GradientPipeline } from '../pipeline/GradientPipeline.js';
import type { GradientTransform } from '../pipeline/GradientTransform.js';
import type { StepStats } from '../pipeline/StepStats.js';
import { adaptiveClip } from '../transforms/adaptiveClip.js';
import { agc } from '../transforms/agc.js';
import { clipByGlobalNorm } from '../transforms/clipByGlobalNorm.js';
import { clipByNorm } from '../transforms/clipByNorm.js';
import { clipByValue } from '../transforms/clipByValue.js';
import { nanGuard } from '../transforms/nanGuard.js';

/**
 * One case of the backend contract: a pipeline and a sequence of steps. A backend passes when every step gives
 * the same gradients, skip decisions and figures as the typed-array backend, within float32 rounding.
 */
export interface ContractCase {
  /** What the case checks, for test titles. */
  readonly name: string;
  /** Makes a fresh pipeline (one per backend run). */
  readonly transforms: () => GradientTransform[];
  /** The steps, each a set of named gradients (plain numbers; the backend makes its tensors). */
  readonly steps: readonly ContractStep[];
}

/** One step of a {@link ContractCase}. */
export interface ContractStep {
  /** The gradients by name, as plain numbers (stored as float32). */
  readonly grads: Readonly<Record<string, readonly number[]>>;
  /** Tensor shapes, for unit-wise transforms. */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  /** The parameters, for transforms that need them (agc). */
  readonly params?: Readonly<Record<string, readonly number[]>>;
}

/** What the typed-array backend produced for a step: the reference a backend is compared with. */
export interface ContractOutcome {
  /** The gradients after the step, as plain numbers. */
  readonly grads: Record<string, number[]>;
  /** Whether the step was skipped. */
  readonly skipped: boolean;
  /** The step's figures. */
  readonly stats: StepStats;
}

const seq = <R>(n: number, f: (i: number) => R): R[] => Array.from({ length: n }, (_, i) => f(i));

/**
 * The contract cases every backend runs.
 *
 * @example
 * ```ts
 * import { contractCases } from '@gradpipe/core/testing';
 * for (const c of contractCases) console.log(c.name, c.steps.length);
 * ```
 */
export const contractCases: readonly ContractCase[] = [
  {
    name: 'clipByGlobalNorm 3-4-5',
    transforms: () => [clipByGlobalNorm({ maxNorm: 1 })],
    steps: [{ grads: { a: [3], b: [4] } }],
  },
  {
    name: 'clipByGlobalNorm within the bound is identity',
    transforms: () => [clipByGlobalNorm({ maxNorm: 10 })],
    steps: [{ grads: { a: [0.1, -0.2, 0.3], b: [1e-3] } }],
  },
  {
    name: 'clipByGlobalNorm L1, L3 and Linf',
    transforms: () => [
      clipByGlobalNorm({ maxNorm: 2, normType: 1 }),
      clipByGlobalNorm({ maxNorm: 1, normType: 3 }),
      clipByGlobalNorm({ maxNorm: 0.5, normType: 'inf' }),
    ],
    steps: [{ grads: { a: [1, -2, 3], b: [4, 5] } }],
  },
  {
    name: 'clipByGlobalNorm extreme magnitudes',
    transforms: () => [clipByGlobalNorm({ maxNorm: 1 })],
    steps: [{ grads: { huge: [1e20, -3e38], tiny: [1e-30, 1e-38] } }, { grads: { huge: [1e-30, 1e-30], tiny: [1e-38, 0] } }],
  },
  {
    name: 'clipByNorm per tensor',
    transforms: () => [clipByNorm({ maxNorm: 1 })],
    steps: [{ grads: { big: [3, 4], small: [0.1, 0.2] } }],
  },
  {
    name: 'clipByValue symmetric and asymmetric',
    transforms: () => [clipByValue(0.5), clipByValue({ min: -0.25, max: 0.4 })],
    steps: [{ grads: { w: [-2, -0.3, 0, 0.3, 2] } }],
  },
  {
    name: 'nanGuard skip',
    transforms: () => [nanGuard({ policy: 'skip' }), clipByGlobalNorm({ maxNorm: 1 })],
    steps: [
      { grads: { a: [1, 2], b: [3] } },
      { grads: { a: [NaN, 2], b: [3] } },
      { grads: { a: [1, 2], b: [Infinity] } },
      { grads: { a: [0.1, 0.2], b: [0.3] } },
    ],
  },
  {
    name: 'nanGuard zero',
    transforms: () => [nanGuard({ policy: 'zero' }), clipByGlobalNorm({ maxNorm: 1 })],
    steps: [{ grads: { a: [NaN, 2, -Infinity], b: [3] } }],
  },
  {
    name: 'adaptiveClip percentile',
    transforms: () => [adaptiveClip({ method: 'percentile', percentile: 50, window: 3 })],
    steps: seq(8, (i) => i).map((i) => ({ grads: { w: [1 + ((i * 7) % 5), -i] } })),
  },
  {
    name: 'adaptiveClip zscore',
    transforms: () => [adaptiveClip({ method: 'zscore', warmupSteps: 3, maxNorm: 50 })],
    steps: [1, 1.2, 0.9, 1.1, 30, 1, 100, 0.8].map((s) => ({ grads: { w: [s * 0.6, s * 0.8] } })),
  },
  {
    name: 'agc first and last unit axis',
    transforms: () => [
      agc({ clipping: 0.1, unitAxis: 'first', exclude: ['bias'] }),
      agc({ clipping: 0.05, unitAxis: 'last', exclude: ['bias'] }),
    ],
    steps: [
      {
        grads: { w: [1, 0.01, 0.02, 2, 0, 0.001], bias: [5, 5] },
        params: { w: [1, 1, 1, 0.5, 0, 0], bias: [0, 0] },
        shapes: { w: [2, 3], bias: [2] },
      },
    ],
  },
  {
    name: 'many tensors',
    transforms: () => [nanGuard(), clipByGlobalNorm({ maxNorm: 3 })],
    steps: [{ grads: Object.fromEntries(seq(20, (i) => [`t${i}`, seq(7, (j) => Math.sin(i * 7 + j) * (i + 1))] as const)) }],
  },
];

/**
 * Runs a case on the typed-array backend: the reference outcomes, one per step.
 *
 * @example
 * ```ts
 * import { contractCases, referenceOutcomes } from '@gradpipe/core/testing';
 * const [first] = referenceOutcomes(contractCases[0]!); // 'clipByGlobalNorm 3-4-5'
 * first!.stats.normBefore; // 5
 * first!.grads.a;          // [0.5999999046325684]
 * ```
 */
export function referenceOutcomes(c: ContractCase): ContractOutcome[] {
  const pipe = new GradientPipeline(c.transforms());
  const toF32 = (r: Readonly<Record<string, readonly number[]>>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v)]));
  return c.steps.map((s) => {
    const { grads, skipped, stats } = pipe.step(toF32(s.grads), {
      ...(s.params ? { params: toF32(s.params) } : {}),
      ...(s.shapes ? { shapes: s.shapes as Record<string, number[]> } : {}),
    });
    return { grads: Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Array.from(v)])), skipped, stats };
  });
}
