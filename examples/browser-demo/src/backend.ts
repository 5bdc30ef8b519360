/// <reference lib="dom" />
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
// The wasm backend's binaries, served by vite from node_modules like any asset.
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** Fastest first: the GPU ones where the browser has them, then WebAssembly, then plain JavaScript. */
const PREFERENCE = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Switches tfjs to the best backend that initialises here and returns its name. */
export async function useBestBackend(): Promise<string> {
  for (const name of PREFERENCE) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // not available in this browser: try the next one
    }
  }
  throw new Error('no TensorFlow.js backend initialised');
}
