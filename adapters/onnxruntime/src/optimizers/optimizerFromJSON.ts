import { GradpipeError, describeValue as show } from '@gradpipe/core';
import { isPlainObject, rejectUnknownKeys } from '@gradpipe/core/internal';
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
  if (!isPlainObject(json) || json.format !== 'gradpipe.optimizer') {
    throw new GradpipeError(fn, `expects the output of an optimizer's toJSON(), got ${show(json)}`);
  }
  rejectUnknownKeys(fn, json, ['format', 'version', 'kind', 'config', 'state'], 'key');
  if (json.version !== 1) throw new GradpipeError(fn, `unsupported version ${show(json.version)}`);
  const kind = json.kind as keyof typeof CONFIG_KEYS;
  if (typeof kind !== 'string' || !Object.hasOwn(CONFIG_KEYS, kind))
    throw new GradpipeError(fn, `unknown optimizer kind ${show(json.kind)} (known: sgd, adam, adamw)`);
  if (!isPlainObject(json.config)) throw new GradpipeError(fn, `config must be an object, got ${show(json.config)}`);
  if (!isPlainObject(json.state)) throw new GradpipeError(fn, `state must be an object, got ${show(json.state)}`);
  // A saved config has every option, defaults filled in: a missing one would silently become its default.
  const missing = CONFIG_KEYS[kind].find((key) => !Object.hasOwn(json.config, key));
  if (missing !== undefined)
    throw new GradpipeError(fn, `config has no ${JSON.stringify(missing)} (a saved ${kind} has ${CONFIG_KEYS[kind].join(', ')})`);
  const config = structuredClone(json.config) as Record<string, unknown>;
  // Saved param groups carry the names they matched; the factory takes them as `names`.
  config.groups = groupsFromJSON(fn, config.groups) as never;
  const optimizer = ({ sgd, adam, adamw }[kind] as (c: never) => Optimizer)(config as never);
  optimizer.loadState(json.state);
  return optimizer;
}

/** The options a saved config of each kind has. */
const CONFIG_KEYS = {
  sgd: ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'groups'],
  adam: ['lr', 'betas', 'eps', 'weightDecay', 'groups'],
  adamw: ['lr', 'betas', 'eps', 'weightDecay', 'groups'],
} as const;
