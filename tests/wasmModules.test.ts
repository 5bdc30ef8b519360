/**
 * Promise of the build: every WebAssembly module the packages load is exactly what its committed text (.wat)
 * assembles to, so the text is what runs and reviewers read the text.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

test('the generated WebAssembly modules are their .wat files assembled (npm run wasm:check)', () => {
  const script = fileURLToPath(new URL('../scripts/assemble-wasm.mjs', import.meta.url));
  const output = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  expect(output).toContain('generated WebAssembly modules are up to date');
});
