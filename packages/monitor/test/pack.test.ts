/**
 * The packages as a user gets them from the registry: `npm pack` of every publishable package of the repository,
 * installed into an empty project, where `npx gradpipe report` runs on a log that the installed packages wrote.
 * Needs the built packages (`npm run build`; CI's `npm ci` runs it) and the npm registry or its cache for the
 * packages' own dependencies (rxjs, commander, uplot, …). Peer dependencies (TensorFlow.js, ONNX Runtime) are not
 * installed: for the two adapters the test checks that everything but the peer resolves.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { useTmpDir } from './tmpdir.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = useTmpDir();

/** The workspaces that are not private: what would be published. */
function publishable(): { dir: string; name: string; peer: string | undefined }[] {
  return ['packages', 'adapters'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((d) => join(group, d))
      .filter((dir) => existsSync(join(root, dir, 'package.json')))
      .map((dir) => ({
        dir,
        pkg: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
          name: string;
          private?: boolean;
          peerDependencies?: Record<string, string>;
        },
      }))
      .filter(({ pkg }) => pkg.private !== true)
      .map(({ dir, pkg }) => ({ dir, name: pkg.name, peer: Object.keys(pkg.peerDependencies ?? {})[0] })),
  );
}

const npm = (cwd: string, ...args: string[]) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', timeout: 180_000 });

describe('npm pack of each publishable package', () => {
  test('installs into an empty project, where npx gradpipe report runs on a log', () => {
    const packages = publishable();
    expect(packages.map((p) => p.name).sort()).toEqual(['@gradpipe/core', '@gradpipe/monitor', '@gradpipe/onnxruntime', '@gradpipe/tfjs']);
    for (const p of packages)
      expect(existsSync(join(root, p.dir, 'dist', 'index.js')), `${p.dir}/dist is missing: run npm run build first`).toBe(true);
    const out = tmp();
    const packed = JSON.parse(npm(root, 'pack', ...packages.map((p) => `./${p.dir}`), '--pack-destination', out, '--json')) as {
      filename: string;
      files: { path: string }[];
    }[];
    const monitor = packed.find((p) => p.filename.startsWith('gradpipe-monitor-'))!;
    const files = monitor.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/gradpipe.js',
        'dist/bin.js',
        'dist/index.js',
        'dist/index.d.ts',
        'assets/page.js',
        'assets/page.css',
        'package.json',
      ]),
    );
    expect(files.filter((f) => f.startsWith('test'))).toEqual([]);

    const project = tmp();
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true, type: 'module' }),
    );
    // --legacy-peer-deps: TensorFlow.js and ONNX Runtime are the user's choice; --ignore-scripts: no install scripts
    // (onnxruntime-node's would download from outside the registry).
    npm(project, 'install', ...packed.map((p) => join(out, p.filename)), '--prefer-offline', '--legacy-peer-deps', '--ignore-scripts');

    // The installed packages record a log…
    writeFileSync(
      join(project, 'train.js'),
      `import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
       import { recordJsonl } from '@gradpipe/monitor';
       const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })], { tensorNorms: true });
       recordJsonl(pipe.events$, 'runs/clip.jsonl');
       for (let i = 0; i < 50; i++) pipe.step({ a: new Float32Array([3, 4 * i]), b: new Float32Array([i === 30 ? Infinity : 1]) }, { loss: 1 / (i + 1) });
       pipe.close();`,
    );
    execFileSync(process.execPath, ['train.js'], { cwd: project });
    // …and the installed command reports on it.
    const report = spawnSync('npx', ['--no-install', 'gradpipe', 'report', 'runs/clip.jsonl', '-o', 'runs/report.html'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(report.stderr.replace(/npm warn .*\n/g, '')).toBe('');
    expect(report.status).toBe(0);
    expect(report.stdout).toMatch(/^wrote runs\/report\.html \(\d+\.\d kB\)/);
    expect(report.stdout).toContain('  clip: 50 steps');
    expect(report.stdout).toContain('non-finite from step 30 (normBefore Infinity)');
    expect(report.stdout).toContain('    layers: 2, 1 flagged\n    exploding b: non-finite norm at 1 step, first at step 30\n');
    expect(readFileSync(join(project, 'runs', 'report.html'), 'utf8')).toContain('id="gradpipe-data"');

    // The adapters resolve everything but the peer dependency the user brings.
    for (const p of packages.filter((x) => x.peer !== undefined)) {
      const tried = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(p.name)})`], {
        cwd: project,
        encoding: 'utf8',
      });
      expect(tried.status, p.name).toBe(1);
      expect(tried.stderr, p.name).toMatch(new RegExp(`Cannot find (package|module) '${p.peer!.replace('/', '\\/')}`));
    }
  });
});
