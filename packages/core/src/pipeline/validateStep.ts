import type { TensorOps } from '../backends/TensorOps.js';
import { describeValue, GradpipeError } from '../errors/GradpipeError.js';
import { isPlainObject, rejectUnknownKeys } from '../errors/validation.js';
import type { AnyGradientTransform, Gradients } from './GradientTransform.js';
import type { PipelineOptions, StepOptions } from './StepOptions.js';
import { checkFactories, type TransformFactory } from './transformRegistry.js';

const STEP_OPTIONS = ['params', 'shapes', 'loss', 'lr'];

/**
 * Checks everything a step is given before any transform runs, so that a refused step changes nothing: the
 * gradients (a plain object of valid tensors, each given once), and the options. Returns the gradient names.
 */
export function validateStep<T, S>(
  fn: string,
  ops: TensorOps<T, S>,
  grads: Gradients<T>,
  options: StepOptions<T, S>,
  transforms: readonly AnyGradientTransform[],
): string[] {
  if (!isPlainObject(grads)) {
    throw new GradpipeError(fn, `grads must be a plain object of named tensors ({ name: tensor }), got ${describeValue(grads)}`);
  }
  const names = Object.keys(grads);
  for (const name of names) {
    const reason = ops.invalidReason(grads[name]);
    if (reason) throw new GradpipeError(fn, `gradient ${JSON.stringify(name)} ${reason}`);
  }
  rejectSharedStorage(fn, grads, names);
  if (!isPlainObject(options)) throw new GradpipeError(fn, `options must be a plain object, got ${describeValue(options)}`);
  rejectUnknownKeys(fn, options, STEP_OPTIONS);
  const { params, shapes, loss, lr } = options;
  if (lr !== undefined && (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)) {
    throw new GradpipeError(fn, `lr must be a finite number >= 0, got ${describeValue(lr)}`);
  }
  if (params !== undefined) validateParams(fn, ops, grads, names, params);
  if (shapes !== undefined) validateShapes(fn, ops, grads, shapes);
  // Host-number backends take a number; device backends also take one of their scalars (a tensor of theirs).
  if (loss !== undefined && typeof loss !== 'number' && (ops.eager || ops.invalidReason(loss) !== undefined)) {
    throw new GradpipeError(fn, `loss must be a number${ops.eager ? '' : ` or a ${ops.name} scalar`}, got ${describeValue(loss)}`);
  }
  // Refuse here, not inside the transform: by then earlier transforms may have changed the caller's arrays.
  const needsParams = transforms.find((t) => 'needsParams' in t && t.needsParams === true);
  if (needsParams && params === undefined)
    throw new GradpipeError(fn, `${needsParams.kind} needs the parameters: call step(grads, { params, shapes })`);
  return names;
}

/**
 * The same tensor under two names would be clipped twice (its norm counted twice, then scaled twice in place),
 * and so would two typed-array views of overlapping memory.
 */
function rejectSharedStorage<T>(fn: string, grads: Gradients<T>, names: readonly string[]): void {
  const seen = new Map<unknown, string>();
  const views: { name: string; buffer: ArrayBufferLike; start: number; end: number }[] = [];
  for (const name of names) {
    const t = grads[name];
    const other = seen.get(t);
    if (other !== undefined) {
      throw new GradpipeError(
        fn,
        `gradients ${JSON.stringify(other)} and ${JSON.stringify(name)} are the same tensor: give each tensor once`,
      );
    }
    seen.set(t, name);
    if (ArrayBuffer.isView(t) && t.byteLength > 0) {
      const view = { name, buffer: t.buffer, start: t.byteOffset, end: t.byteOffset + t.byteLength };
      const overlap = views.find((v) => v.buffer === view.buffer && v.start < view.end && view.start < v.end);
      if (overlap) {
        throw new GradpipeError(
          fn,
          `gradients ${JSON.stringify(overlap.name)} and ${JSON.stringify(name)} share memory (overlapping views of one buffer): give each tensor its own`,
        );
      }
      views.push(view);
    }
  }
}

function validateParams<T, S>(fn: string, ops: TensorOps<T, S>, grads: Gradients<T>, names: readonly string[], params: unknown): void {
  if (!isPlainObject(params)) throw new GradpipeError(fn, `params must be a plain object of named tensors, got ${describeValue(params)}`);
  const gradKeys = [...names].sort();
  const missing = gradKeys.filter((k) => !Object.hasOwn(params, k));
  const extra = Object.keys(params)
    .sort()
    .filter((k) => !Object.hasOwn(grads, k));
  if (missing.length || extra.length) {
    const parts = [
      missing.length ? `missing params for ${missing.map((k) => JSON.stringify(k)).join(', ')}` : '',
      extra.length ? `params without gradients: ${extra.map((k) => JSON.stringify(k)).join(', ')}` : '',
    ];
    throw new GradpipeError(fn, `params must have the same keys as grads; ${parts.filter(Boolean).join('; ')}`);
  }
  for (const k of gradKeys) {
    const reason = ops.invalidReason(params[k]);
    if (reason) throw new GradpipeError(fn, `param ${JSON.stringify(k)} ${reason}`);
    if (ops.size(params[k] as T) !== ops.size(grads[k]!)) {
      throw new GradpipeError(
        fn,
        `param ${JSON.stringify(k)} has ${ops.size(params[k] as T)} elements but its gradient has ${ops.size(grads[k]!)}`,
      );
    }
  }
}

function validateShapes<T, S>(fn: string, ops: TensorOps<T, S>, grads: Gradients<T>, shapes: unknown): void {
  if (!isPlainObject(shapes))
    throw new GradpipeError(fn, `shapes must be a plain object of shapes by gradient name, got ${describeValue(shapes)}`);
  for (const [k, shape] of Object.entries(shapes)) {
    if (!Object.hasOwn(grads, k)) throw new GradpipeError(fn, `shapes has ${JSON.stringify(k)}, which is not a gradient`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new GradpipeError(fn, `shape of ${JSON.stringify(k)} must be an array of non-negative integers, got ${describeValue(shape)}`);
    }
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    if (count !== ops.size(grads[k]!)) {
      throw new GradpipeError(
        fn,
        `shape [${shape.join(', ')}] of ${JSON.stringify(k)} has ${count} elements but the gradient has ${ops.size(grads[k]!)}`,
      );
    }
  }
}

/** Checks the constructor's arguments: an array of transforms, and known options of the right types. */
export function checkPipelineOptions(fn: string, transforms: readonly AnyGradientTransform[], options: PipelineOptions): PipelineOptions {
  if (!Array.isArray(transforms)) throw new GradpipeError(fn, `transforms must be an array, got ${describeValue(transforms)}`);
  transforms.forEach((t, i) => {
    if (
      typeof t !== 'object' ||
      t === null ||
      typeof t.update !== 'function' ||
      typeof t.init !== 'function' ||
      typeof t.kind !== 'string'
    ) {
      throw new GradpipeError(fn, `transforms[${i}] is not a gradient transform (needs kind, init, update), got ${describeValue(t)}`);
    }
  });
  if (!isPlainObject(options)) throw new GradpipeError(fn, `options must be a plain object, got ${describeValue(options)}`);
  rejectUnknownKeys(fn, options, ['tensorNorms', 'measureNormAfter', 'onSubscriberError']);
  const { tensorNorms, measureNormAfter, onSubscriberError } = options;
  if (tensorNorms !== undefined && typeof tensorNorms !== 'boolean')
    throw new GradpipeError(fn, `tensorNorms must be true or false, got ${describeValue(tensorNorms)}`);
  if (measureNormAfter !== undefined && typeof measureNormAfter !== 'boolean') {
    throw new GradpipeError(fn, `measureNormAfter must be true or false, got ${describeValue(measureNormAfter)}`);
  }
  if (onSubscriberError !== undefined && typeof onSubscriberError !== 'function') {
    throw new GradpipeError(fn, `onSubscriberError must be a function (error) => void, got ${describeValue(onSubscriberError)}`);
  }
  return options;
}

/** Checks the options of `fromJSON`: the pipeline's own, and factories for custom transforms. */
export function checkFromJsonOptions(
  fn: string,
  options: PipelineOptions & { transforms?: Record<string, TransformFactory> },
): { factories: Readonly<Record<string, TransformFactory>>; pipelineOptions: PipelineOptions } {
  if (!isPlainObject(options)) throw new GradpipeError(fn, `options must be a plain object, got ${describeValue(options)}`);
  const { transforms, ...pipelineOptions } = options;
  rejectUnknownKeys(fn, pipelineOptions, ['tensorNorms', 'measureNormAfter', 'onSubscriberError', 'transforms']);
  return { factories: checkFactories(fn, transforms), pipelineOptions: checkPipelineOptions(fn, [], pipelineOptions) };
}
