import { GradpipeError, describeValue } from '@gradpipe/core';
import type { JsonObject } from '@gradpipe/core';

/**
 * An optimizer on named `Float32Array` parameters, updated in place with PyTorch's (`torch.optim`) rules.
 * Create one with {@link sgd}, {@link adam} or {@link adamw}, or bring your own object with these members.
 *
 * @example
 * ```ts
 * import { sgd } from '@gradpipe/onnxruntime';
 * const optimizer = sgd({ lr: 0.1 });
 * const params = { w: new Float32Array([1, 2]) };
 * optimizer.update(params, { w: new Float32Array([1, 1]) }); // params.w → [0.9, 1.9]
 * const saved = JSON.stringify(optimizer.toJSON());
 * ```
 */
export interface Optimizer {
  /** `'sgd'`, `'adam'` or `'adamw'`. */
  readonly kind: string;
  /** The options, complete with defaults. */
  readonly config: JsonObject;
  /** Applies one step: changes `params` in place from `grads` (same keys). Call it only for applied steps. */
  update(params: Record<string, Float32Array>, grads: Record<string, Float32Array>): void;
  /** Config and state (step count, moment buffers) as JSON, exactly: buffers are base64 float32 bytes. */
  toJSON(): OptimizerJson;
  /** Restores the state of a {@link Optimizer.toJSON} with the same kind (used by {@link optimizerFromJSON}). */
  loadState(state: JsonObject): void;
}

/** The JSON form of an optimizer. */
export interface OptimizerJson {
  /** Marks the object as a saved optimizer; {@link optimizerFromJSON} refuses anything else. */
  format: 'gradpipe.optimizer';
  /** Version of this format. */
  version: 1;
  /** `'sgd'`, `'adam'` or `'adamw'`: which factory {@link optimizerFromJSON} calls. */
  kind: string;
  /** The options it was made with, defaults filled in. */
  config: JsonObject;
  /**
   * What changes as it trains, by kind: SGD's momentum buffers; Adam's step count and first and second moments.
   * Buffers are base64 of their float32 bytes, so a resumed optimizer continues bit for bit.
   */
  state: JsonObject;
}

/** The {@link OptimizerJson} of an optimizer of this kind, config and state. */
export function optimizerJson(kind: string, config: JsonObject, state: JsonObject): OptimizerJson {
  return { format: 'gradpipe.optimizer', version: 1, kind, config, state };
}

/** Float32Array ⇄ base64 of its bytes: exact, and compact for big buffers. */
function encodeBuffer(data: Float32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

function decodeBuffer(fn: string, text: unknown): Float32Array {
  if (typeof text !== 'string') throw new GradpipeError(fn, `expected a base64 buffer, got ${describeValue(text)}`);
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes); // offset 0, so the float view is aligned
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

export function encodeBuffers(buffers: Map<string, Float32Array>): JsonObject {
  return Object.fromEntries([...buffers].map(([k, v]) => [k, encodeBuffer(v)]));
}

export function decodeBuffers(fn: string, json: unknown): Map<string, Float32Array> {
  if (typeof json !== 'object' || json === null) throw new GradpipeError(fn, `state buffers must be an object, got ${describeValue(json)}`);
  return new Map(Object.entries(json).map(([k, v]) => [k, decodeBuffer(fn, v)]));
}

/** Throws unless `params` and `grads` have the same keys and lengths. */
export function checkUpdate(fn: string, params: Record<string, Float32Array>, grads: Record<string, Float32Array>): void {
  for (const [name, g] of Object.entries(grads)) {
    const p = params[name];
    if (!(p instanceof Float32Array)) throw new GradpipeError(fn, `no Float32Array parameter ${JSON.stringify(name)} for its gradient`);
    if (!(g instanceof Float32Array) || g.length !== p.length) {
      throw new GradpipeError(fn, `gradient ${JSON.stringify(name)} must be a Float32Array of ${p.length} values`);
    }
  }
}

