import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages by name; these aliases point the names at the TypeScript sources, so tests never
// run against a stale build. (tests/dist-smoke.test.ts checks the built packages separately.)
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@gradpipe\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@gradpipe\/core\/internal$/, replacement: src('./packages/core/src/internal.ts') },
      { find: /^@gradpipe\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@gradpipe\/tfjs$/, replacement: src('./adapters/tfjs/src/index.ts') },
      { find: /^@gradpipe\/onnxruntime$/, replacement: src('./adapters/onnxruntime/src/index.ts') },
      { find: /^@gradpipe\/monitor$/, replacement: src('./packages/monitor/src/index.ts') },
      { find: /^@gradpipe\/example-seed-data$/, replacement: src('./examples/seed-data/src/index.ts') },
      { find: /^@gradpipe\/example-mnist-data$/, replacement: src('./examples/mnist-data/src/index.ts') },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'adapters/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'benchmarks/test/**/*.test.ts',
      'tests/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
