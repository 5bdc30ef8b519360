/**
 * The article's Keras LSTM on MNIST, in TensorFlow.js with gradpipe's Keras-style clipping: each digit read as 28
 * timesteps of 28 pixels, LSTM → Dense(10) softmax, categorical cross-entropy, Adam 1e-3, trained once with
 * Keras' `clipvalue: 1` and once with `clipnorm: 2` (the pipelines `withClipping` builds, with per-tensor norms
 * logged), then tested on held-out digits.
 *
 * Run: `node examples/mnist-lstm/dist/main.js --help`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type JsonlRecorder, recordJsonl, writeReport } from '@gradpipe/monitor';
import type { ClippingOptions } from '@gradpipe/tfjs';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MultiBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { markdownTable } from 'markdown-table';
import { loadDigits } from './loadDigits.js';
import { type LstmResult, trainLstm } from './trainLstm.js';

const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${value}`);
  return n;
};
const integer = (name: string) => (value: string) => {
  const n = positive(name)(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number, got ${value}`);
  return n;
};

const program = new Command('mnist-lstm')
  .description('Train the Keras MNIST LSTM in TensorFlow.js with Keras-style gradient clipping (gradpipe).')
  .addOption(new Option('--clip <mode>', 'which clipping runs').choices(['clipvalue', 'clipnorm', 'both']).default('both'))
  .option('--clip-value <v>', 'clipvalue threshold', positive('--clip-value'), 1)
  .option('--clip-norm <v>', 'clipnorm threshold (per variable)', positive('--clip-norm'), 2)
  .option('--epochs <n>', 'training epochs', integer('--epochs'), 6)
  .option('--batch-size <n>', 'batch size', integer('--batch-size'), 32)
  .option('--units <n>', 'LSTM units', integer('--units'), 64)
  .option('--per-digit <n>', 'use only the first n images of each digit (default: all, ~1,000)', integer('--per-digit'))
  .option('--test-fraction <f>', 'share of each digit held out for testing', positive('--test-fraction'), 0.2)
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
  .option('--out <dir>', 'where the JSONL logs and the HTML report go', 'runs/mnist-lstm')
  .parse();
const opts = program.opts<{
  clip: 'clipvalue' | 'clipnorm' | 'both';
  clipValue: number;
  clipNorm: number;
  epochs: number;
  batchSize: number;
  units: number;
  perDigit?: number;
  testFraction: number;
  backend: 'wasm' | 'cpu';
  out: string;
}>();

// The wasm backend's binaries ship in its package; tfjs-node (native) is not used.
setWasmPaths(join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
tf.enableProdMode(); // no "install tfjs-node" banner
await tf.setBackend(opts.backend);
await tf.ready();

const { train, test } = loadDigits({ testFraction: opts.testFraction, ...(opts.perDigit ? { perDigit: opts.perDigit } : {}) });
console.log(
  `MNIST (mnist package): ${train.labels.length} training digits, ${test.labels.length} held-out test digits; tfjs ${tf.getBackend()} backend.`,
);

const runs: { name: string; clipping: ClippingOptions }[] = [];
if (opts.clip !== 'clipnorm') runs.push({ name: `clipvalue ${opts.clipValue}`, clipping: { clipvalue: opts.clipValue } });
if (opts.clip !== 'clipvalue') runs.push({ name: `clipnorm ${opts.clipNorm}`, clipping: { clipnorm: opts.clipNorm } });

const stepsPerRun = opts.epochs * Math.ceil(train.labels.length / opts.batchSize);
const bars = process.stdout.isTTY
  ? new MultiBar(
      { format: ' {run} |{bar}| {value}/{total} steps | loss {loss} | {eta_formatted} left', hideCursor: true },
      Presets.shades_classic,
    )
  : undefined;
const results: (LstmResult & { name: string })[] = [];
const logs: string[] = [];
for (const { name, clipping } of runs) {
  const bar = bars?.create(stepsPerRun, 0, { run: name.padEnd(12), loss: '-' });
  const log = join(opts.out, `${name.replace(' ', '-')}.jsonl`);
  let recorder: JsonlRecorder | undefined;
  const result = await trainLstm({
    train,
    test,
    clipping,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    units: opts.units,
    onStep: (e) => bar?.increment({ loss: (e.loss ?? NaN).toFixed(3) }),
    onPipeline: (pipe) =>
      (recorder = recordJsonl(pipe.events$, log, { run: name, extra: { ...clipping, units: opts.units, batchSize: opts.batchSize } })),
  });
  await recorder?.close();
  logs.push(log);
  results.push({ name, ...result });
  if (!bars)
    console.log(
      `${name}: ${result.steps} steps in ${result.seconds.toFixed(0)} s, test accuracy ${(100 * result.testAccuracy).toFixed(1)}%`,
    );
}
bars?.stop();
tf.dispose([train.x, train.y, test.x, test.y]);

console.log(
  `\n${markdownTable([
    ['run', 'epochs', 'steps', 'clipped steps', 'final train loss', 'test accuracy', 'time'],
    ...results.map((r) => [
      r.name,
      String(opts.epochs),
      String(r.steps),
      String(r.clippedSteps),
      r.finalLoss.toFixed(4),
      `${(100 * r.testAccuracy).toFixed(2)}%`,
      `${r.seconds.toFixed(0)} s`,
    ]),
  ])}`,
);
console.log(`Held-out test set: ${test.labels.length} digits never seen in training.`);
const report = join(opts.out, 'report.html');
await writeReport(logs, report, { title: 'MNIST LSTM: clipvalue vs clipnorm' });
console.log(`Every step's norms (before/after clipping) and loss: ${logs.join(', ')}; report: ${report}`);
