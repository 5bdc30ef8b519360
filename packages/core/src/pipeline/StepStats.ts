/** The figures one transform reported for a step, read back as numbers. */
export interface TransformStats {
  /** The transform's kind, e.g. `'clipByGlobalNorm'`. */
  readonly kind: string;
  /** True when this transform decided that the step must not be applied. */
  readonly skip: boolean;
  /** True when this transform changed the gradients by clipping. */
  readonly clipped: boolean;
  /** The bound it clipped to, when it reports one. */
  readonly threshold?: number;
  /** Its measurements (`norm`, `factor`, …), as the transform defines them. */
  readonly figures: Readonly<Record<string, number>>;
}

/**
 * The figures of one gradient step, returned by `step` and emitted on `events$`.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * const { stats } = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]).step({ w: new Float32Array([3, 4]) });
 * stats; // { step: 0, normBefore: 5, normAfter: 0.99999…, clipped: true, skipped: false, threshold: 1, nonFinite: [], … }
 * ```
 */
export interface StepStats {
  /** 0-based index of this step among all steps the pipeline processed (skipped ones included). */
  readonly step: number;
  /** Global L2 norm of the gradients as they came in (within 2·2⁻²⁴ of exact, no overflow). NaN/Infinity when some entry is. */
  readonly normBefore: number;
  /**
   * Global L2 norm of the gradients as they come out. For tensors that were only scaled, this is the norm before
   * times the factor (within 2⁻²² of the stored values' norm), unless the pipeline was made with
   * `measureNormAfter: true`: then backends that can (typed arrays) measure it in the same pass as the scaling.
   */
  readonly normAfter: number;
  /** True when some transform changed the gradients by clipping. */
  readonly clipped: boolean;
  /** True when a guard decided this step must not be applied. */
  readonly skipped: boolean;
  /** The threshold of the last transform that reports a finite one (e.g. the adaptive threshold). */
  readonly threshold?: number;
  /** Names of the incoming tensors with a NaN or ±Infinity entry. */
  readonly nonFinite: readonly string[];
  /** The loss of this step, when the caller passed one to `step`. */
  readonly loss?: number;
  /** The learning rate the step's update uses, when the caller passed one to `step` (a schedule's value). */
  readonly lr?: number;
  /** Every transform's own figures, in pipeline order. */
  readonly transforms: readonly TransformStats[];
}

/**
 * What `events$` emits for each step: the {@link StepStats}, plus per-tensor norms when the pipeline was made
 * with `{ tensorNorms: true }`.
 */
export interface StepEvent extends StepStats {
  /** L2 norm of every incoming tensor, by name (only with `tensorNorms: true`). */
  readonly tensorNorms?: Readonly<Record<string, number>>;
}
