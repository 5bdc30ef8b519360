import { describeValue as show, GradpipeError } from '@gradpipe/core';
import { adam } from './adam.js';
import { adamw } from './adamw.js';
import type { Optimizer, OptimizerJson } from './Optimizer.js';
import { groupsFromJSON } from './paramGroups.js';
import { sgd } from './sgd.js';

/**
 * Rebuilds an optimizer, state included, from {@link Optimizer.toJSON}: the next update is exactly the one the
 * saved optimizer would have made.
 *
 * @example
 * ```ts
 * import { sgd, optimizerFromJSON } from '@gradpipe/onnxruntime';
 * const saved = JSON.stringify(sgd({ lr: 0.1, momentum: 0.9 }).toJSON());
 * const resumed = optimizerFromJSON(JSON.parse(saved));
 * ```
 */
export function optimizerFromJSON(json: OptimizerJson): Optimizer {
  const fn = 'optimizerFromJSON';
  if (typeof json !== 'object' || json === null || json.format !== 'gradpipe.optimizer') {
    throw new GradpipeError(fn, `expects the output of an optimizer's toJSON(), got ${show(json)}`);
  }
  if (json.version !== 1) throw new GradpipeError(fn, `unsupported version ${show(json.version)}`);
  const make = { sgd, adam, adamw }[json.kind as 'sgd' | 'adam' | 'adamw'] as ((c: never) => Optimizer) | undefined;
  if (!make) throw new GradpipeError(fn, `unknown optimizer kind ${show(json.kind)} (known: sgd, adam, adamw)`);
  const config = structuredClone(json.config) as Record<string, unknown>;
  // Saved param groups carry the names they matched; the factory takes them as `names`.
  if (config.groups !== undefined) config.groups = groupsFromJSON(config.groups) as never;
  const optimizer = make(config as never);
  optimizer.loadState(json.state);
  return optimizer;
}
