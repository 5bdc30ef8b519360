/// <reference lib="dom" />
// The benchmark page: the steps of ../src/tfjsStep.ts on the backend browserRows.ts asks for.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { measureBackend, type TfjsBench } from '../src/tfjsStep.js';

declare const __WASM_DIR__: string;
setWasmPaths(__WASM_DIR__);
tf.enableProdMode();

/** The rows of one backend, or why it could not run. */
async function runBench(backend: string, bench: TfjsBench) {
  try {
    if (!(await tf.setBackend(backend))) return `tf.setBackend('${backend}') failed`;
  } catch (error) {
    return `tf.setBackend('${backend}') threw: ${String(error)}`;
  }
  await tf.ready();
  return measureBackend(bench, backend);
}

Object.assign(window, { runBench, benchReady: true });
