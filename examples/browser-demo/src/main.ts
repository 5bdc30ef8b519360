/// <reference lib="dom" />
// The page: pick a clipping, train, watch the norms arrive, download the log for `gradpipe report`.

import type { StepEvent } from '@gradpipe/core';
import * as tf from '@tensorflow/tfjs';
import { useBestBackend } from './backend.js';
import { RunCharts } from './charts.js';
import { stepLine } from './logLine.js';
import { type Clipping, SGD, train } from './train.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const format = (v: number | undefined) => (v === undefined ? '—' : Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));

/** What the page exposes to tests and the console: the charts and the last run. */
const demo = {
  charts: [] as unknown[],
  backend: '',
  steps: 0,
  epochLosses: [] as number[],
  running: false,
};
Object.assign(window, { demo });

let log: string[] = [];
let logName = 'run';

function show(e: StepEvent): void {
  $('step').textContent = String(e.step);
  const loss = $('loss');
  loss.textContent = format(e.loss);
  loss.classList.toggle('nan', e.loss !== undefined && !Number.isFinite(e.loss));
  $('norm-before').textContent = format(e.normBefore);
  $('norm-after').textContent = format(e.normAfter);
}

async function run(): Promise<void> {
  const clipping = (document.querySelector('input[name="clipping"]:checked') as HTMLInputElement).value as Clipping;
  const epochs = Math.max(1, Math.min(200, Math.round(Number($<HTMLInputElement>('epochs').value) || 20)));
  const name = `${clipping}-${demo.backend}`;
  const charts = new RunCharts($('norm-chart'), $('loss-chart'), $('layer-chart'));
  demo.charts = charts.plots;
  demo.steps = 0;
  demo.epochLosses = [];
  demo.running = true;
  log = [];
  logName = name;
  $('run').textContent = name;
  const status = $('status');
  status.className = '';
  status.textContent = `training ${epochs} epochs…`;
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('download').disabled = true;
  try {
    const losses = await train(clipping, epochs, {
      onStep(e) {
        charts.push(e);
        demo.charts = charts.plots;
        demo.steps++;
        log.push(stepLine(e, name, { lr: SGD.lr, momentum: SGD.momentum, batchSize: SGD.batchSize, backend: demo.backend }));
        show(e);
      },
      onEpoch(epoch, loss) {
        demo.epochLosses.push(loss);
        status.textContent = `epoch ${epoch + 1} of ${epochs}: loss ${format(loss)}`;
      },
    });
    charts.flush();
    const firstNaN = losses.findIndex((l) => !Number.isFinite(l));
    status.className = firstNaN >= 0 ? 'diverged' : '';
    status.textContent =
      firstNaN >= 0
        ? `diverged: the loss is NaN from epoch ${firstNaN + 1} on`
        : `finished: loss ${format(losses[0])} → ${format(losses.at(-1))} in ${epochs} epochs`;
  } catch (error) {
    status.className = 'diverged';
    status.textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    demo.running = false;
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('download').disabled = log.length === 0;
  }
}

/** The run's JSONL, as a file download: `npx gradpipe report <file>` reads it. */
function download(): void {
  const url = URL.createObjectURL(new Blob(log, { type: 'application/x-ndjson' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${logName}.jsonl`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

tf.enableProdMode();
demo.backend = await useBestBackend();
$('backend').textContent = demo.backend;
$('status').textContent = 'ready: choose a clipping and train';
$<HTMLButtonElement>('train').disabled = false;
$('train').addEventListener('click', () => void run());
$('download').addEventListener('click', download);
