/**
 * The seed's before/after experiment in TensorFlow.js: an MLP on make_regression data, trained with SGD
 * (lr 0.07, momentum 0.8) three times — no clipping, clip by value 1.0, clip by global norm 1.0 — printed beside
 * the PyTorch figures, logged to runs/seed-regression/*.jsonl with an HTML report.
 *
 * Run: `npm run demo` (or `node examples/seed-regression/dist/main.js [--epochs 50] [--out runs/seed-regression]`).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeRegression } from '@gradpipe/example-seed-data';
import { type JsonlRecorder, recordJsonl, writeReport } from '@gradpipe/monitor';
import * as tf from '@tensorflow/tfjs';
import { MultiBar, Presets } from 'cli-progress';
import { regressionTensors } from './regressionTensors.js';
import { resultsTable } from './resultsTable.js';
import { type Clipping, type ExperimentResult, runExperiment, SGD } from './runExperiment.js';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '50' },
    seeds: { type: 'string', default: '3' },
    out: { type: 'string', default: 'runs/seed-regression' },
  },
});
const epochs = Number(args.epochs);
const seeds = Array.from({ length: Number(args.seeds) }, (_, i) => i + 1);
const outDir = args.out!;
const RUNS: Clipping[] = ['none', 'clipvalue', 'globalNorm'];
const SAMPLES = 1000;

// Silences tfjs's "install tfjs-node" banner: the pure-JS cpu backend is what runs here, on purpose.
tf.enableProdMode();

const stepsPerRun = epochs * Math.ceil(SAMPLES / SGD.batchSize);
// A progress bar per run on a terminal; one line per finished run when the output is a file or a pipe.
const bars = process.stdout.isTTY
  ? new MultiBar({ format: ' {run} |{bar}| {value}/{total} steps | ‖g‖ {norm} | loss {loss}', hideCursor: true }, Presets.shades_classic)
  : undefined;
const results: ExperimentResult[] = [];
const logs: string[] = [];
const started = performance.now();

for (const seed of seeds) {
  // Like the PyTorch figures: each seed draws its own data set and initial weights.
  const data = regressionTensors(makeRegression({ samples: SAMPLES, features: 20, informative: 10, noise: 0.1, seed }));
  for (const clipping of RUNS) {
    const run = `${clipping}-seed${seed}`;
    const bar = bars?.create(stepsPerRun, 0, { run: run.padEnd(16), norm: '-', loss: '-' });
    const runStarted = performance.now();
    const path = join(outDir, `${run}.jsonl`);
    let recorder: JsonlRecorder | undefined;
    results.push(
      await runExperiment({
        clipping,
        data,
        epochs,
        seed,
        onStart: (optimizer) => {
          recorder = recordJsonl(optimizer.pipeline.events$, path, { run, extra: { seed, ...SGD } });
        },
        onStep: (e) => bar?.increment({ norm: e.normBefore.toPrecision(3), loss: (e.loss ?? NaN).toPrecision(3) }),
      }),
    );
    await recorder?.close();
    logs.push(path);
    if (!bars) console.log(`${run}: ${stepsPerRun} steps in ${((performance.now() - runStarted) / 1000).toFixed(1)} s`);
  }
  tf.dispose([data.x, data.y]);
}
bars?.stop();

const report = await writeReport(logs, join(outDir, 'report.html'), {
  title: 'seed regression: no clipping vs clip by value vs clip by global norm',
});
console.log(`\n${resultsTable(results)}\n`);
console.log(
  `${results.length} runs × ${stepsPerRun} steps in ${((performance.now() - started) / 1000).toFixed(1)} s on the tfjs ${tf.getBackend()} backend.`,
);
console.log(
  `Every step's norms (before/after clipping) and loss: ${join(outDir, '*.jsonl')} (${logs.length} runs); report: ${report.path}`,
);
