import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** The backends every tfjs test runs on: the pure-JS `cpu` and the WebAssembly `wasm`. */
export const BACKENDS = ['cpu', 'wasm'] as const;
export type BackendName = (typeof BACKENDS)[number];

// The wasm backend ships its .wasm binaries in its dist folder; point it there (no network).
const require = createRequire(import.meta.url);
setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');

/** Switches tfjs to `name` and waits until it is ready. */
export async function useBackend(name: BackendName): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend ${name} failed to initialise`);
  await tf.ready();
}

/**
 * Runs `body` and checks that it leaves exactly as many live tensors as before: the leak check every tfjs
 * test makes.
 */
export async function withoutLeaks<R>(body: () => R | Promise<R>): Promise<R> {
  const before = tf.memory().numTensors;
  const result = await body();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${before} live tensors before, ${after} after`);
  return result;
}
