import { defineConfig } from 'vite';

// `npm run demo:browser` at the repository root: vite's dev server on 127.0.0.1 (WebGPU wants a secure context,
// which 127.0.0.1 is). The tfjs packages are pre-bundled up front, so the page never reloads to add one.
export default defineConfig({
  server: { host: '127.0.0.1' },
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
      'uplot',
      'rxjs',
    ],
  },
});
