// The tfjs adapter in Chromium: the backend contract and the wrapped-optimizer tests (suite.ts) on cpu, wasm,
// webgl (WebGL 2 on SwiftShader) and webgpu (WebGPU on SwiftShader), in a page served by vite on 127.0.0.1.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, startVite } from '../../../tests/support/chromium.js';
import type { CaseResult } from './browser/suite.js';

const require = createRequire(import.meta.url);
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu'];

let server: ViteDevServer;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  ({ server } = await startVite(fileURLToPath(new URL('./browser/', import.meta.url)), {
    define: { __WASM_DIR__: JSON.stringify(`/@fs${wasmDir}/`) },
    optimizeDeps: {
      include: [
        '@tensorflow/tfjs',
        '@tensorflow/tfjs-core',
        '@tensorflow/tfjs-backend-wasm',
        '@tensorflow/tfjs-backend-webgpu',
        '@vitest/expect',
        'rxjs',
        'pure-rand/distribution/uniformFloat64',
        'pure-rand/distribution/uniformInt',
        'pure-rand/generator/xoroshiro128plus',
      ],
    },
  }));
  browser = await launchChromium();
  ({ page, errors } = await openPage(browser, server.resolvedUrls!.local[0]!));
  await page
    .waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, { timeout: 60_000 })
    .catch((e: Error) => {
      throw new Error(`the test page did not load: ${e.message}\n${errors.join('\n')}`);
    });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('@gradpipe/tfjs in Chromium', () => {
  it('has all four backends, WebGL 2 and WebGPU included', async () => {
    expect(
      await page.evaluate(() =>
        (window as unknown as { gradpipe: { availableBackends(): Promise<string[]> } }).gradpipe.availableBackends(),
      ),
    ).toEqual(BACKENDS);
  });

  for (const backend of BACKENDS) {
    it(`passes the contract and the optimizer tests on ${backend}, without leaks`, async () => {
      const results = await page.evaluate(
        (b) => (window as unknown as { gradpipe: { runSuite(b: string): Promise<CaseResult[]> } }).gradpipe.runSuite(b),
        backend,
      );
      const failed = results.filter((r) => r.error !== undefined);
      // webgpu has no synchronous read: its contract cases run deferred only.
      expect(results.length).toBeGreaterThanOrEqual(backend === 'webgpu' ? 24 : 36);
      const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 3);
      console.log(
        `${backend}: ${results.length} tests in ${(results.reduce((s, r) => s + r.ms, 0) / 1000).toFixed(1)} s; slowest ${slowest.map((r) => `${r.name.slice(0, 40)}… ${(r.ms / 1000).toFixed(1)} s`).join('; ')}`,
      );
      expect(failed.map((r) => `${r.name}: ${r.error}`)).toEqual([]);
      expect(errors.filter((e) => !e.includes('synchronously reading data from GPU'))).toEqual([]);
    }, 600_000);
  }
});
