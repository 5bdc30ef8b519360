// The seed's before/after experiment trained through ONNX Runtime:
//   node examples/seed-regression-onnx/dist/main.js [--epochs 50] [--seed 1] [--out runs/seed-regression-onnx]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { JsonlRecorder } from '@gradpipe/monitor';
import { recordJsonl, writeReport } from '@gradpipe/monitor';
import cliProgress from 'cli-progress';
import { checkExport } from './checkExport.js';
import type { ExperimentResult, RunName } from './runExperiment.js';
import { runExperiment, SGD } from './runExperiment.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'runs/seed-regression-onnx' },
  },
});
const epochs = Number(values.epochs);
const seed = Number(values.seed);
if (!Number.isInteger(epochs) || epochs < 1 || !Number.isInteger(seed)) {
  console.error(`--epochs must be a positive integer and --seed an integer, got ${values.epochs} and ${values.seed}`);
  process.exit(2);
}
const out = values.out;
mkdirSync(out, { recursive: true });

const labels: Record<RunName, string> = { none: 'no clipping', value: 'clip by value 1.0', global: 'clip by global norm 1.0' };
// Progress bars on a terminal; a plain line per finished run when the output is piped or logged.
const interactive = process.stderr.isTTY === true;
const bars = new cliProgress.MultiBar(
  { format: ' {run} |{bar}| epoch {value}/{total} | loss {loss}', hideCursor: true, clearOnComplete: false },
  cliProgress.Presets.shades_classic,
);
const results: ExperimentResult[] = [];
const logs: string[] = [];
for (const run of ['none', 'value', 'global'] as const) {
  const bar = interactive ? bars.create(epochs, 0, { run: labels[run].padEnd(24), loss: '-' }) : undefined;
  let recorder: JsonlRecorder | undefined;
  const log = join(out, `${run}.jsonl`);
  const result = await runExperiment({
    run,
    seed,
    epochs,
    // One JSON line per step: norms before/after clipping and the loss (the trainer passes it to the pipeline).
    onPipeline: (pipe) => (recorder = recordJsonl(pipe.events$, log, { run, extra: { ...SGD, seed } })),
    onEpoch: (epoch, loss) => bar?.update(epoch + 1, { loss: Number.isFinite(loss) ? loss.toFixed(3) : String(loss) }),
  });
  if (!interactive) console.log(`${labels[run]}: ${epochs} epochs, final loss ${result.epochLosses.at(-1)}`);
  await recorder?.close();
  logs.push(log);
  results.push(result);
}
if (interactive) bars.stop();

console.log('\n| run | first NaN epoch | loss at epoch %d | clipped steps |', epochs);
console.log('|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${labels[r.run]} | ${r.firstNanEpoch ?? 'never'} | ${r.epochLosses.at(-1)!.toPrecision(4)} | ${r.clippedSteps}/${r.steps} |`,
  );
}

const clipped = results.find((r) => r.run === 'global')!;
const { bytes, maxDifference, mse } = await checkExport(clipped.trainer, clipped.data);
writeFileSync(join(out, 'trained-global-norm.onnx'), bytes);
console.log(
  `\nexported ${join(out, 'trained-global-norm.onnx')} (${bytes.length} bytes): a fresh InferenceSession gives MSE ${mse.toPrecision(4)} on the data; max |export − trainer| = ${maxDifference}`,
);
const report = await writeReport(logs, join(out, 'report.html'), { title: 'seed regression through ONNX Runtime' });
console.log(`logs: ${logs.join(', ')}; report: ${report.path}`);
for (const r of results) await r.trainer.release();
