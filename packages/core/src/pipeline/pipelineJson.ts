import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { isPlainObject, rejectUnknownKeys } from '../errors/validation.js';
import type { AnyGradientTransform, JsonObject, JsonValue } from './GradientTransform.js';
import { factoryFor, knownKinds, type TransformFactory } from './transformRegistry.js';

/** The JSON form of a pipeline: every transform's kind, config and state, and the step counter. */
export interface PipelineJson {
  /** Marks the object as a saved pipeline. */
  format: 'gradpipe.pipeline';
  /** Version of this format. */
  version: 1;
  /** How many steps the pipeline had processed: the resumed one goes on counting from here. */
  step: number;
  /** The `tensorNorms` option of the pipeline. */
  tensorNorms: boolean;
  /** Every transform, in order. */
  transforms: {
    /** The transform's kind, which names its factory for `fromJSON`. */
    kind: string;
    /** The options it was made with. */
    config: JsonObject;
    /** Its state after the last step. */
    state: JsonValue;
  }[];
}

/**
 * Checks every field of a saved pipeline that the pipeline itself owns (the transforms check their own config
 * and state when rebuilt), so a corrupt file is refused with the field that is wrong, never half-loaded.
 */
export function checkPipelineJson(fn: string, json: unknown): PipelineJson {
  if (!isPlainObject(json) || json.format !== 'gradpipe.pipeline') {
    throw new GradpipeError(fn, `expects the output of GradientPipeline.toJSON() (format "gradpipe.pipeline"), got ${describeValue(json)}`);
  }
  rejectUnknownKeys(fn, json, ['format', 'version', 'step', 'tensorNorms', 'transforms'], 'field');
  if (json.version !== 1) throw new GradpipeError(fn, `unsupported version ${describeValue(json.version)} (this gradpipe reads version 1)`);
  // Far below 2⁵³, so that the counter stays exact (and savable) for as many steps as any run will take.
  if (typeof json.step !== 'number' || !Number.isSafeInteger(json.step) || json.step < 0 || json.step > 2 ** 52) {
    throw new GradpipeError(fn, `step must be an integer in [0, 2^52], got ${describeValue(json.step)}`);
  }
  if (typeof json.tensorNorms !== 'boolean')
    throw new GradpipeError(fn, `tensorNorms must be true or false, got ${describeValue(json.tensorNorms)}`);
  if (!Array.isArray(json.transforms)) throw new GradpipeError(fn, `transforms must be an array, got ${describeValue(json.transforms)}`);
  // An index loop, not forEach: a sparse array's holes must be refused, not skipped.
  for (let i = 0; i < json.transforms.length; i++) {
    const t: unknown = json.transforms[i];
    const at = `transforms[${i}]`;
    if (!isPlainObject(t)) throw new GradpipeError(fn, `${at} must be an object { kind, config, state }, got ${describeValue(t)}`);
    rejectUnknownKeys(fn, t, ['kind', 'config', 'state'], `field of ${at}`);
    if (typeof t.kind !== 'string') throw new GradpipeError(fn, `${at}.kind must be a string, got ${describeValue(t.kind)}`);
    if (!isPlainObject(t.config)) throw new GradpipeError(fn, `${at}.config must be an object, got ${describeValue(t.config)}`);
    const bad = notJson(t.state, `${at}.state`) ?? notJson(t.config, `${at}.config`);
    if (bad) throw new GradpipeError(fn, bad);
  }
  return json as unknown as PipelineJson;
}

/** Why `value` is not JSON data (undefined when it is): what JSON.stringify would drop or change. */
function notJson(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} must be JSON data, got ${value}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = notJson(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const bad = notJson(v, `${path}.${k}`);
      if (bad) return bad;
    }
    return undefined;
  }
  return `${path} must be JSON data, got ${describeValue(value)}`;
}

/** Rebuilds the saved transforms from their configs, and their states, each checked by its transform. */
export function restoreTransforms(
  fn: string,
  saved: PipelineJson,
  custom: Readonly<Record<string, TransformFactory>>,
): { transforms: AnyGradientTransform[]; states: unknown[] } {
  const transforms = saved.transforms.map((t, i) => {
    const make = factoryFor(t.kind, custom);
    if (!make) {
      throw new GradpipeError(
        fn,
        `transforms[${i}] has unknown kind ${JSON.stringify(t.kind)} (known: ${knownKinds(custom).join(', ')}): pass its factory in options.transforms`,
      );
    }
    try {
      return make(structuredClone(t.config));
    } catch (error) {
      throw new GradpipeError(
        fn,
        `transforms[${i}] (${t.kind}) has a corrupt config: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });
  const states = saved.transforms.map((t, i) => {
    const state = structuredClone(t.state);
    const transform = transforms[i]!;
    if (!transform.restoreState) return state;
    try {
      return transform.restoreState(state);
    } catch (error) {
      throw new GradpipeError(
        fn,
        `transforms[${i}] (${t.kind}) has a corrupt state: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });
  return { transforms, states };
}

/** The JSON form of a pipeline's transforms and state (copies: the pipeline goes on changing its own). */
export function toPipelineJson(
  step: number,
  tensorNorms: boolean,
  transforms: readonly AnyGradientTransform[],
  states: readonly unknown[],
): PipelineJson {
  return {
    format: 'gradpipe.pipeline',
    version: 1,
    step,
    tensorNorms,
    transforms: transforms.map((t, i) => ({
      kind: t.kind,
      config: structuredClone(t.config),
      state: structuredClone(states[i]) as JsonValue,
    })),
  };
}
