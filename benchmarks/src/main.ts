// gradpipe's benchmark: every figure a ratio of two timings taken side by side in the same run (median of
// several repetitions), against the physical limit (copying the same bytes) or the bare optimizer.
//
//   npm run bench                       the full run (a few minutes), writes benchmarks/results.json
//   npm run bench -- --only typed,wasm  some parts: typed, clip-torch (PyTorch clip_grad_norm_ side by side), small, wasm, tfjs, browser, onnx, zoo, torch (PyTorch training side by side)
//   npm run bench -- --quick            tiny sizes, a smoke run (writes benchmarks/results.local.json)
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { browserRows } from './browserRows.js';
import { onnxRows } from './onnxRows.js';
import type { Row } from './Row.js';
import { printTable, writeResults } from './report.js';
import { tfjsRows } from './tfjsRows.js';
import { torchClipRows } from './torchClipRows.js';
import { torchRows } from './torchRows.js';
import { typedArrayRows } from './typedArrayRows.js';
import { wasmRows } from './wasmRows.js';
import { zooRows } from './zooRows.js';

const PARTS = ['typed', 'clip-torch', 'small', 'wasm', 'tfjs', 'browser', 'onnx', 'zoo', 'torch'] as const;
type Part = (typeof PARTS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: PARTS.join(',') },
    out: { type: 'string' },
  },
});
const quick = args.quick!;
const only = new Set(args.only!.split(',').map((p) => p.trim()));
for (const part of only) {
  if (!PARTS.includes(part as Part)) {
    console.error(`--only takes a comma-separated list of ${PARTS.join(', ')}; got ${JSON.stringify(part)}`);
    process.exit(2);
  }
}
const out = args.out ?? fileURLToPath(new URL(quick ? '../results.local.json' : '../results.json', import.meta.url));

const parts: Record<Part, () => Row[] | Promise<Row[]>> = {
  typed: () =>
    typedArrayRows(
      quick
        ? { group: 'typed-array 200k floats / 10 tensors (quick)', tensors: 10, size: 20_000, reps: 3, naiveReps: 1 }
        : {
            group: 'typed-array 25M floats (100 MB) / 50 tensors',
            tensors: 50,
            size: 500_000,
            reps: 9,
            naiveReps: 3,
            targets: { noClip: 1.0, clips: 1.3 },
          },
    ),
  'clip-torch': () => torchClipRows(quick ? { tensors: 10, size: 20_000, reps: 3 } : { tensors: 50, size: 500_000, reps: 15 }),
  small: () =>
    typedArrayRows(
      quick
        ? { group: 'typed-array 500 tensors × 100 floats (quick)', tensors: 500, size: 100, reps: 3, naiveReps: 0 }
        : { group: 'typed-array 10,000 tensors × 100 floats', tensors: 10_000, size: 100, reps: 15, naiveReps: 3 },
    ),
  wasm: () =>
    quick
      ? wasmRows('WASM memory 200k floats / 10 tensors (quick)', 10, 20_000, 3)
      : wasmRows('WASM memory 25M floats (100 MB) / 50 tensors', 50, 500_000, 9),
  tfjs: () =>
    tfjsRows(
      quick
        ? { variables: 4, rows: 50, cols: 50, batch: 4, reps: 3, stepsPerBlock: 2 }
        : { variables: 20, rows: 250, cols: 200, batch: 16, reps: 11, stepsPerBlock: 3 },
    ),
  browser: () =>
    browserRows(
      quick
        ? { variables: 4, rows: 50, cols: 50, batch: 4, reps: 3, stepsPerBlock: 2 }
        : { variables: 20, rows: 250, cols: 200, batch: 16, reps: 11, stepsPerBlock: 4 },
      quick ? ['cpu', 'wasm', 'webgl', 'webgpu'] : undefined,
      quick ? {} : { webgpu: { reps: 7, stepsPerBlock: 1 } },
    ),
  onnx: () =>
    onnxRows(
      quick
        ? [{ label: 'seed MLP (quick)', sizes: [20, 25, 1], batch: 128, callsPerBlock: 5, reps: 3 }]
        : [
            { label: 'seed MLP', sizes: [20, 25, 1], batch: 128, callsPerBlock: 100, reps: 15 },
            { label: 'larger MLP', sizes: [256, 1024, 1024, 10], batch: 128, callsPerBlock: 3, reps: 11 },
          ],
    ),
  torch: () => torchRows({ reps: quick ? 3 : 21 }),
  zoo: () => zooRows(quick ? { batch: 4, reps: 3, lengths: [28] } : { batch: 32, reps: 11, lengths: [28, 100, 300] }),
};

const rows: Row[] = [];
for (const part of PARTS) {
  if (!only.has(part)) continue;
  const start = Date.now();
  process.stderr.write(`bench: ${part}…`);
  rows.push(...(await parts[part]()));
  process.stderr.write(` ${((Date.now() - start) / 1000).toFixed(0)} s\n`);
}
printTable(rows);
writeResults(out, rows, {
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  date: new Date().toISOString(),
  quick,
  parts: [...only],
});
console.log(`\nWrote ${out}`);
