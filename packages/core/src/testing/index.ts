/**
 * Test support for backends: the contract every {@link @gradpipe/core!TensorOps | TensorOps} implementation must meet, as data.
 * A backend's test suite runs each case with `pipe.stepWith(itsOps, …)` and compares with
 * {@link referenceOutcomes} (the typed-array backend).
 *
 * @example
 * ```ts
 * import { contractCases, referenceOutcomes } from '@gradpipe/core/testing';
 * for (const c of contractCases) {
 *   const expected = referenceOutcomes(c);
 *   // run c.steps on your backend and compare with expected[i].grads / .skipped / .stats
 * }
 * ```
 * @module @gradpipe/core/testing
 */

export type { ContractCase, ContractOutcome, ContractStep } from './contractCases.js';
export { contractCases, referenceOutcomes } from './contractCases.js';
