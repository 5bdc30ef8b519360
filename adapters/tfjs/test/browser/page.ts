/// <reference lib="dom" />
// The page of browser.test.ts: registers every tfjs backend and hands the suite to the test driver.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { runSuite } from './suite.js';

declare const __WASM_DIR__: string;
setWasmPaths(__WASM_DIR__);
tf.enableProdMode();

/** The backends that initialise here: WebGPU only where the browser exposes it. */
async function availableBackends(): Promise<string[]> {
  const found: string[] = [];
  for (const name of ['cpu', 'wasm', 'webgl', 'webgpu']) {
    try {
      if (await tf.setBackend(name)) found.push(name);
    } catch {
      // not available in this browser
    }
  }
  return found;
}

(window as unknown as { gradpipe: object }).gradpipe = { availableBackends, runSuite };
document.getElementById('status')!.textContent = 'ready';
