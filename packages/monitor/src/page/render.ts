// Draws the whole page from checked chart data; called again on each live update and when a control changes.
import type uPlot from 'uplot';
import type { ChartData } from '../buildChartData.js';
import { byId, el } from './dom.js';
import { layerGutter } from './layers/layeredRun.js';
import { currentLayerRun, layerSection } from './layers/layerSection.js';
import { applyHidden, legend } from './legend.js';
import { lossChart } from './lossChart.js';
import { normChart } from './normChart.js';
import { allPlots, state } from './state.js';
import { gutterFor } from './strip.js';
import { summaryTable } from './summaryTable.js';

/** The charts' width, from the page's. */
export function chartWidth(): number {
  return Math.max(480, byId('charts').clientWidth - 8);
}

/** The x range the reader zoomed to (drag on a chart), or null: kept when a live update redraws the charts. */
function zoomOf(u: uPlot): { min: number; max: number } | null {
  const x = u.data[0];
  const { min, max } = u.scales.x!;
  if (!x.length || min == null || max == null) return null;
  return min > x[0]! || max < x[x.length - 1]! ? { min, max } : null;
}

function downsampledNote(data: ChartData): string {
  return (
    `Large log: the charts are downsampled to buckets of ${data.bucketSize} steps (longest run: ${data.maxSteps} steps). ` +
    'Each bucket is drawn as its minimum and maximum, so spikes stay visible; a mark in the event strip means at least ' +
    'one step of its bucket was clipped, skipped, non-finite or a spike. The summary table is computed from every step.'
  );
}

export function render(data: ChartData): void {
  state.lastData = data;
  state.ready = false;
  const zoom = state.charts.length ? zoomOf(state.charts[0]!.plot) : null;
  for (const c of state.charts) c.plot.destroy();
  state.charts = [];
  byId('charts').hidden = false;
  byId('layer-section').hidden = false;
  document.title = data.title;
  byId('title').textContent = data.title;
  const totalSteps = data.runs.reduce((n, r) => n + r.summary.steps, 0);
  byId('meta').textContent = `${data.runs.length} run${data.runs.length === 1 ? '' : 's'}, ${totalSteps} steps in all.`;
  const note = byId('downsampled');
  if (data.bucketSize > 1) {
    note.hidden = false;
    note.textContent = downsampledNote(data);
  } else {
    note.hidden = true;
  }
  byId('spike-rule').textContent = `spike: over ${data.spikes.z} robust SDs above the median of the previous ${data.spikes.window} values`;
  byId('summary').replaceChildren(data.runs.length ? summaryTable(data) : el('p', { class: 'empty', text: 'No steps logged yet.' }));
  byId('norm-chart').replaceChildren();
  byId('loss-chart').replaceChildren();
  legend(data);
  const width = chartWidth();
  const layered = currentLayerRun(data);
  state.plotLeft = Math.max(64 + gutterFor(data), layered ? layerGutter(layered) : 0);
  if (data.runs.length === 0) {
    layerSection(data, width);
    return;
  }
  state.charts.push(normChart(data, width));
  const loss = lossChart(data, width);
  if (loss) state.charts.push(loss);
  layerSection(data, width);
  if (zoom) for (const u of allPlots()) u.setScale('x', zoom);
  applyHidden();
  state.ready = true;
  window.gradpipeCharts = state.charts.map((c) => c.plot); // for the browser's devtools and the tests
}

/** Instead of drawing: says why the data cannot be drawn. What was drawn before (a live page's) stays. */
export function refuse(problems: readonly string[]): void {
  const box = byId('problem');
  box.hidden = false;
  box.textContent = `This page cannot draw its data: it is not the chart data of @gradpipe/monitor.\n${problems.join('\n')}`;
  if (state.lastData === null) {
    byId('charts').hidden = true;
    byId('layer-section').hidden = true;
  }
}
