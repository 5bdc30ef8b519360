/**
 * Promise of the docs: every `@example` in @gradpipe/core's doc comments is a runnable program. Each one is cut
 * out of the source, written to a temporary module and imported (so `import … from '@gradpipe/core'` resolves like
 * in the other tests); it must run without throwing — except where the example itself says "throws".
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const src = fileURLToPath(new URL('../src', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every ```ts block inside a doc comment's @example, with where it came from. */
function examples(): { where: string; code: string }[] {
  const found: { where: string; code: string }[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    for (const comment of text.match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
      const lines = comment.split('\n').map((l) => l.replace(/^\s*\*( |$)/, ''));
      let inExample = false;
      let block: string[] | undefined;
      for (const line of lines) {
        if (line.startsWith('@example')) inExample = true;
        else if (line.startsWith('@') && !block) inExample = false;
        if (inExample && line.trim().startsWith('```')) {
          if (block) {
            found.push({
              where: `${relative(src, file)}: ${block
                .find((l) => l.trim() && !l.startsWith('import'))
                ?.trim()
                .slice(0, 60)}`,
              code: block.join('\n'),
            });
            block = undefined;
          } else if (/^```(ts|typescript)\b/.test(line.trim())) block = [];
        } else if (block) block.push(line);
      }
    }
  }
  return found;
}

const dir = mkdtempSync(join(tmpdir(), 'gradpipe-doc-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every @example in the core sources runs', () => {
  const all = examples();

  it('finds the examples', () => {
    expect(all.length).toBeGreaterThanOrEqual(30);
  });

  it.each(all.map((e, i) => [e.where, e.code, i] as const))('%s', async (_where, code, i) => {
    // Lines the example marks as throwing are run inside an expect(…).toThrow.
    const body = code
      .split('\n')
      .map((line) => {
        const m = /^(\s*)(.*?);\s*\/\/\s*throws\b/.exec(line);
        return m ? `${m[1]}__expectThrow(() => { ${m[2]}; });` : line;
      })
      .join('\n');
    const file = join(dir, `example-${i}.ts`);
    writeFileSync(
      file,
      `const __expectThrow = (f: () => unknown) => { let threw = false; try { f(); } catch { threw = true; } if (!threw) throw new Error('expected a throw'); };\n${body}\nexport {};\n`,
    );
    const quiet = ['log', 'warn', 'error'].map((m) => vi.spyOn(console, m as 'log').mockImplementation(() => {}));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      quiet.forEach((s) => s.mockRestore());
    }
  });
});
