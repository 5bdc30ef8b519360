// The operator table of docs/onnxruntime.md is the registry's, family by family: adding an operator without
// documenting it (or documenting one that is not there) fails here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { OPERATOR_FAMILIES } from '../src/autodiff/registry.js';

test('docs/onnxruntime.md lists exactly the registered operators, by family', () => {
  const docs = readFileSync(fileURLToPath(new URL('../../../docs/onnxruntime.md', import.meta.url)), 'utf8');
  const section = docs.slice(docs.indexOf('### Supported operators'), docs.indexOf('### How the recurrent rules work'));
  const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| family') && !line.startsWith('|---'));
  const documented = Object.fromEntries(
    rows.map((row) => {
      const [family, operators] = row.split(' | ').map((cell) => cell.replace(/^\| /, ''));
      return [family!, [...operators!.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]!).sort()];
    }),
  );
  const registered = Object.fromEntries(Object.entries(OPERATOR_FAMILIES).map(([family, rules]) => [family, Object.keys(rules).sort()]));
  expect(documented).toEqual(registered);
});
