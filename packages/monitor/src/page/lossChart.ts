// The loss chart: per run, its loss (on a log scale while every loss is positive and the reader wants it), with
// an event strip for the runs that have a non-finite loss or a loss spike.
import type uPlot from 'uplot';
import type { ChartData } from '../buildChartData.js';
import { colorOf, MARK } from './colors.js';
import { cursor, syncX } from './cursor.js';
import { byId, el } from './dom.js';
import { formatTicks } from './format.js';
import { showValues, valueAt } from './legend.js';
import { log10s, logAxis, logRange } from './logScale.js';
import { type RunChart, state } from './state.js';
import { drawStrip, type Lane, stripHeight } from './strip.js';
import { joinRuns, Plot } from './uplot.js';

/** Only runs with a non-finite loss or a loss spike get a lane: nine empty lanes would only be noise. */
function marked(flags: readonly (0 | 1)[]): boolean {
  return flags.some((f) => f === 1);
}

/** The loss chart, or null (and a note in its place) when no run has a loss. */
export function lossChart(data: ChartData, width: number): RunChart | null {
  const target = byId('loss-chart');
  const withLoss = data.runs.filter((r) => r.loss.step.length > 0);
  if (withLoss.length === 0) {
    target.appendChild(
      el('p', { class: 'empty', text: 'No loss in these logs (pass loss to pipe.step, or recorder.log({ step, loss })).' }),
    );
    return null;
  }
  const canLog = data.runs.every((r) => r.loss.value.every((v) => v === null || v > 0));
  const log = state.lossLog && canLog;
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{ label: 'step' }];
  const seriesOf = new Map<string, number[]>();
  const lanes: Lane[] = [];
  data.runs.forEach((r, i) => {
    if (r.loss.step.length === 0) return;
    const c = colorOf(i);
    tables.push([r.loss.step, log ? log10s(r.loss.value) : r.loss.value]);
    seriesOf.set(r.run, [series.length]);
    series.push({ label: `${r.run} · loss`, stroke: c, width: 1.5, show: !state.hidden.has(r.run) });
    if (marked(r.loss.nonFinite) || marked(r.loss.spike)) {
      lanes.push({
        run: r.run,
        color: c,
        marks: [
          { steps: r.loss.step, flags: r.loss.nonFinite, color: MARK.nonFinite, thick: true },
          { steps: r.loss.step, flags: r.loss.spike, color: MARK.spike, tick: true },
        ],
      });
    }
  });
  const plot = new Plot(
    {
      width,
      height: 260 + stripHeight(lanes),
      title: `Loss${log ? ' (log scale)' : ''}`,
      padding: [stripHeight(lanes), 16, 0, state.plotLeft - 64],
      legend: { show: false },
      scales: { x: { time: false }, y: log ? { range: logRange } : {} },
      axes: [{ label: 'step' }, log ? logAxis('loss') : { label: 'loss', values: formatTicks, size: 64 }],
      series,
      cursor,
      hooks: {
        setScale: [syncX],
        draw: [drawStrip(lanes)],
        setCursor: [showValues('loss', seriesOf, (u, s, idx) => `loss ${valueAt(u, s[0]!, idx, log)}`)],
      },
    },
    joinRuns(tables),
    target,
  );
  return { plot, seriesOf };
}
