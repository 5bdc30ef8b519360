/**
 * The article's MNIST LSTM — and a small CNN — exported from PyTorch (scripts/export_models.py) and trained in
 * Node through ONNX Runtime with gradpipe's OrtTrainer: no clipping, clip by value 1, clip by norm 2 (per
 * tensor, Keras' clipnorm), on the real digits of the `mnist` package, then tested on held-out digits.
 *
 * Run: `node examples/mnist-lstm-onnx/dist/main.js --help`.
 */
import { join } from 'node:path';
import { loadDigits } from '@gradpipe/example-mnist-data';
import { type JsonlRecorder, recordJsonl, writeReport } from '@gradpipe/monitor';
import { MultiBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { markdownTable } from 'markdown-table';
import { type ClipName, type DigitsResult, type ModelName, trainDigits } from './trainDigits.js';

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

const program = new Command('mnist-lstm-onnx')
  .description(
    'Train the PyTorch-exported MNIST LSTM (and CNN) in Node through ONNX Runtime, with and without gradient clipping (gradpipe).',
  )
  .addOption(new Option('--model <name>', 'which model').choices(['lstm', 'cnn', 'both']).default('both'))
  .addOption(new Option('--clip <mode>', 'which runs').choices(['none', 'value', 'norm', 'all']).default('all'))
  .option('--clip-value <v>', 'clip-by-value bound', positive('--clip-value'), 1)
  .option('--clip-norm <v>', 'clip-by-norm bound (per tensor)', positive('--clip-norm'), 2)
  .option('--epochs <n>', 'training epochs', integer('--epochs'), 6)
  .option('--batch-size <n>', 'batch size', integer('--batch-size'), 32)
  .option('--learning-rate <lr>', 'Adam learning rate', positive('--learning-rate'), 1e-3)
  .option('--per-digit <n>', 'use only the first n images of each digit (default: all, ~1,000)', integer('--per-digit'))
  .option('--test-fraction <f>', 'share of each digit held out for testing', positive('--test-fraction'), 0.2)
  .option('--out <dir>', 'where the JSONL logs and the HTML report go', 'runs/mnist-lstm-onnx')
  .parse();
const opts = program.opts<{
  model: ModelName | 'both';
  clip: ClipName | 'all';
  clipValue: number;
  clipNorm: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  perDigit?: number;
  testFraction: number;
  out: string;
}>();

const { train, test } = loadDigits({ testFraction: opts.testFraction, ...(opts.perDigit ? { perDigit: opts.perDigit } : {}) });
console.log(
  `MNIST (mnist package): ${train.labels.length} training digits, ${test.labels.length} held-out test digits; ONNX Runtime (onnxruntime-node, CPU).`,
);

const models: ModelName[] = opts.model === 'both' ? ['lstm', 'cnn'] : [opts.model];
const clips: ClipName[] = opts.clip === 'all' ? ['none', 'value', 'norm'] : [opts.clip];
const label = (clip: ClipName) =>
  ({ none: 'no clipping', value: `clip by value ${opts.clipValue}`, norm: `clip by norm ${opts.clipNorm}` })[clip];
const stepsPerRun = opts.epochs * Math.ceil(train.labels.length / opts.batchSize);
const bars = process.stdout.isTTY
  ? new MultiBar(
      { format: ' {run} |{bar}| {value}/{total} steps | loss {loss} | {eta_formatted} left', hideCursor: true },
      Presets.shades_classic,
    )
  : undefined;

const results: (DigitsResult & { model: ModelName; run: string })[] = [];
const logs: string[] = [];
for (const model of models) {
  for (const clip of clips) {
    const run = `${model} ${label(clip)}`;
    const bar = bars?.create(stepsPerRun, 0, { run: run.padEnd(24), loss: '-' });
    const log = join(opts.out, `${run.replace(/ /g, '-')}.jsonl`);
    let recorder: JsonlRecorder | undefined;
    const result = await trainDigits({
      model,
      clip,
      train,
      test,
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      learningRate: opts.learningRate,
      clipValue: opts.clipValue,
      clipNorm: opts.clipNorm,
      onStep: (loss) => bar?.increment({ loss: loss.toFixed(3) }),
      onPipeline: (pipe) => (recorder = recordJsonl(pipe.events$, log, { run, extra: { model, clip, batchSize: opts.batchSize } })),
    });
    await recorder?.close();
    logs.push(log);
    results.push({ model, run: label(clip), ...result });
    if (!bars)
      console.log(
        `${run}: ${result.steps} steps in ${result.seconds.toFixed(0)} s, test accuracy ${(100 * result.testAccuracy).toFixed(2)}%`,
      );
  }
}
bars?.stop();

console.log(
  `\n${markdownTable([
    ['model', 'run', 'epochs', 'steps', 'clipped steps', 'final train loss', 'test accuracy', 'ms per step', 'time'],
    ...results.map((r) => [
      r.model,
      r.run,
      String(opts.epochs),
      String(r.steps),
      String(r.clippedSteps),
      r.finalLoss.toFixed(4),
      `${(100 * r.testAccuracy).toFixed(2)}%`,
      r.msPerStep.toFixed(1),
      `${r.seconds.toFixed(0)} s`,
    ]),
  ])}`,
);
console.log(`Held-out test set: ${test.labels.length} digits never seen in training.`);
const report = join(opts.out, 'report.html');
await writeReport(logs, report, { title: 'MNIST through ONNX Runtime: no clipping, clip by value, clip by norm' });
console.log(`Every step's norms (before/after clipping) and loss: ${opts.out}/*.jsonl; report: ${report}`);
