import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createServer, type InlineConfig, type ViteDevServer } from 'vite';

/** The repository's root folder. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const src = (path: string) => `${repoRoot}${path}`;

/**
 * The package names the pages import, pointed at the TypeScript sources (as vitest.config.ts does), so a browser
 * test never runs a stale build.
 */
export const sourceAliases = [
  { find: /^@gradpipe\/core\/testing$/, replacement: src('packages/core/src/testing/index.ts') },
  { find: /^@gradpipe\/core$/, replacement: src('packages/core/src/index.ts') },
  { find: /^@gradpipe\/tfjs$/, replacement: src('adapters/tfjs/src/index.ts') },
  { find: /^@gradpipe\/example-seed-data$/, replacement: src('examples/seed-data/src/index.ts') },
];

/**
 * Chromium's flags for WebGL 2 and WebGPU without a GPU: both on SwiftShader, Chromium's CPU implementation of
 * Vulkan. (WebGPU is exposed only to secure contexts, which http://127.0.0.1 is and about:blank or file: are not.)
 */
export const GPU_FLAGS = ['--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-unsafe-webgpu'];

/** Debian's Chromium, headless, with {@link GPU_FLAGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...GPU_FLAGS,
    ],
  });
}

/** A vite dev server for `root` on 127.0.0.1 (a free port), dependencies pre-bundled before the first page. */
export async function startVite(root: string, config: InlineConfig = {}): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    ...config,
    resolve: { alias: sourceAliases, ...config.resolve },
    // No file watcher, no hot reload: a file saved while the tests run must not reload the page.
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [repoRoot] }, hmr: false, watch: null, ...config.server },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error(`vite did not report a URL for ${root}`);
  return { server, url };
}

/** A page that records console errors, warnings and uncaught exceptions. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url);
  return { page, errors };
}
