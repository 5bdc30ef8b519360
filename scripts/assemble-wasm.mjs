// Assembles the repository's WebAssembly kernels from their text (.wat) with wabt, into TypeScript modules that
// hold the bytes, so no package needs an assembler at run time.
//   node scripts/assemble-wasm.mjs          write the generated modules   (npm run wasm)
//   node scripts/assemble-wasm.mjs --check  fail if one is not its text's (npm run wasm:check, in CI)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** Each module: its text, the file generated from it, and how that file exposes the bytes. */
const MODULES = [
  {
    wat: 'packages/core/src/backends/wasmSimd/kernels.wat',
    out: 'packages/core/src/backends/wasmSimd/wasmSimdModule.ts',
    // Core runs in browsers too and its TypeScript libs have no atob or Buffer: the bytes as numbers.
    source: (bytes) =>
      `${header('kernels.wat')}\n` +
      `/** The typed-array backend's SIMD kernels (${bytes.length} bytes): imports \`env.memory\`; exports the functions of kernels.wat. */\n` +
      `export function wasmSimdModuleBytes(): Uint8Array {\n  return new Uint8Array([\n${wrap(Array.from(bytes).join(', '))}\n  ]);\n}\n`,
  },
  {
    wat: 'adapters/onnxruntime/src/optimizers/kernels/optimizerKernels.wat',
    out: 'adapters/onnxruntime/src/optimizers/kernels/optimizerKernelsWasm.ts',
    source: (bytes) =>
      `${header('optimizerKernels.wat')}\n` +
      `/** The optimizer kernels' WebAssembly module (${bytes.length} bytes), base64. */\n` +
      `export const OPTIMIZER_KERNELS_WASM = '${Buffer.from(bytes).toString('base64')}';\n`,
  },
];

function header(wat) {
  return `// Generated from ${wat} by scripts/assemble-wasm.mjs (npm run wasm) — do not edit: edit the .wat and run it.`;
}

/** Lines of at most ~110 characters, indented for the array literal. */
function wrap(text) {
  const lines = [];
  let line = '';
  for (const item of text.split(' ')) {
    if (line.length + item.length > 110) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += `${item} `;
  }
  lines.push(line.trimEnd());
  return lines.map((l) => `    ${l}`).join('\n');
}

/** The module's bytes, assembled from its text (SIMD enabled, no debug names: the bytes depend on the code only). */
export async function assemble(watPath) {
  const tools = await wabt();
  const module = tools.parseWat(watPath, readFileSync(root(watPath), 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { wat, out, source } of MODULES) {
    const text = source(await assemble(wat));
    if (!check) {
      writeFileSync(root(out), text);
      console.log(`wrote ${out}`);
    } else if (readFileSync(root(out), 'utf8') !== text) {
      console.error(`${out} is not what ${wat} assembles to: run \`npm run wasm\` and commit the result`);
      stale++;
    }
  }
  if (check && stale === 0) console.log(`the ${MODULES.length} generated WebAssembly modules are up to date`);
  process.exitCode = stale === 0 ? 0 : 1;
}
