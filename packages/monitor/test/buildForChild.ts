import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Compiles the monitor's current sources to plain JS for a child process (vitest runs the .ts sources directly,
 * a child `node` cannot), so child-process tests never run a stale dist/. The build sits inside the package so
 * the child resolves commander and uplot like the real package does. Returns its directory; call the returned
 * `remove` when done.
 */
export function buildForChild(): { dir: string; remove: () => void } {
  const root = join(packageDir, 'test-artifacts');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'build-'));
  mkdirSync(join(dir, 'src'));
  // Every module of the library, in subfolders too; not the page script (src/page/: browser code, bundled into assets/).
  const names = readdirSync(join(packageDir, 'src'), { recursive: true, encoding: 'utf8' });
  for (const name of names) {
    if (!name.endsWith('.ts') || name.split(sep)[0] === 'page') continue;
    mkdirSync(join(dir, 'src', dirname(name)), { recursive: true });
    const source = readFileSync(join(packageDir, 'src', name), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: name,
    });
    writeFileSync(join(dir, 'src', name.replace(/\.ts$/, '.js')), outputText);
  }
  cpSync(join(packageDir, 'package.json'), join(dir, 'package.json')); // "type": "module", and the version
  cpSync(join(packageDir, 'assets'), join(dir, 'assets'), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
