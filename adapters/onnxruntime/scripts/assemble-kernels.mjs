// Assembles src/optimizers/kernels/optimizerKernels.wat with wabt into optimizerKernelsWasm.ts (the bytes as
// base64), so the package needs no assembler at run time:  node adapters/onnxruntime/scripts/assemble-kernels.mjs
// A test assembles it again and compares, so the committed bytes are always the text's.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

const dir = (file) => fileURLToPath(new URL(`../src/optimizers/kernels/${file}`, import.meta.url));

/** The module's bytes, from its text. */
export async function assembleKernels() {
  const tools = await wabt();
  const module = tools.parseWat('optimizerKernels.wat', readFileSync(dir('optimizerKernels.wat'), 'utf8'), { simd: true });
  module.validate();
  const { buffer } = module.toBinary({ log: false, write_debug_names: false });
  module.destroy();
  return buffer;
}

export function kernelsSource(bytes) {
  return `// Generated from optimizerKernels.wat by scripts/assemble-kernels.mjs — do not edit; edit the .wat and run it.\n` +
    `/** The optimizer kernels' WebAssembly module (${bytes.length} bytes), base64. */\n` +
    `export const OPTIMIZER_KERNELS_WASM = '${Buffer.from(bytes).toString('base64')}';\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assembleKernels();
  writeFileSync(dir('optimizerKernelsWasm.ts'), kernelsSource(bytes));
  console.log(`wrote optimizerKernelsWasm.ts (${bytes.length} bytes)`);
}
