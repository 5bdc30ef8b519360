// The tfjs rows in headless Chromium: the steps of tfjsStep.ts on cpu, wasm, webgl (WebGL 2) and webgpu, on
// SwiftShader (no GPU here), in a page that vite serves on 127.0.0.1 (WebGPU needs a secure context).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import type { Row } from './Row.js';
import { BARE, rowsOf } from './tfjsRows.js';
import type { BackendRow, TfjsBench } from './tfjsStep.js';

const BACKENDS = ['webgl', 'webgpu', 'wasm', 'cpu'];
const require = createRequire(import.meta.url);

/**
 * Every backend's rows from one page: same browser, same run. `overrides` change the sizes for one backend —
 * WebGPU on SwiftShader takes seconds per step of 1M parameters, so it gets fewer steps per block.
 */
export async function browserRows(
  bench: TfjsBench,
  backends: readonly string[] = BACKENDS,
  overrides: Record<string, Partial<TfjsBench>> = {},
): Promise<Row[]> {
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const root = fileURLToPath(new URL('../browser/', import.meta.url));
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const server = await createServer({
    root,
    configFile: false,
    // The TypeScript sources, as the browser tests use them: never a stale build.
    resolve: {
      alias: [
        { find: /^@gradpipe\/core$/, replacement: `${repo}packages/core/src/index.ts` },
        { find: /^@gradpipe\/core\/internal$/, replacement: `${repo}packages/core/src/internal.ts` },
        { find: /^@gradpipe\/tfjs$/, replacement: `${repo}adapters/tfjs/src/index.ts` },
      ],
    },
    logLevel: 'warn',
    define: { __WASM_DIR__: JSON.stringify(`/@fs${wasmDir}/`) },
    optimizeDeps: {
      include: ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'rxjs'],
    },
    // No file watcher, no hot reload: a file saved during a run must not reload the page.
    server: { host: '127.0.0.1', port: 0, fs: { allow: [repo] }, hmr: false, watch: null },
  });
  await server.listen();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-unsafe-webgpu'],
  });
  const rows: Row[] = [];
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForFunction(() => (globalThis as unknown as { benchReady?: boolean }).benchReady === true, undefined, {
      timeout: 120_000,
    });
    const params = bench.variables * bench.rows * bench.cols;
    for (const backend of backends) {
      const group = `tfjs ${backend} (Chromium page), Adam on ${(params / 1e6).toFixed(1)}M params / ${bench.variables} variables`;
      const result = await page.evaluate(
        ([b, s]) =>
          (
            globalThis as unknown as { runBench(b: string, s: TfjsBench): Promise<{ rows: BackendRow[]; leaked: number } | string> }
          ).runBench(b, s),
        [backend, { ...bench, ...overrides[backend] }] as const,
      );
      if (typeof result === 'string') rows.push({ group, name: `${backend} backend`, baseline: BARE, note: result });
      else rows.push(...rowsOf(group, backend, result.rows, result.leaked));
      process.stderr.write(` ${backend}`);
    }
    if (errors.length) rows.push({ group: 'tfjs in Chromium', name: 'page errors', baseline: BARE, note: errors.join('; ') });
  } finally {
    await browser.close();
    await server.close();
  }
  return rows;
}
