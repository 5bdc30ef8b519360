// The per-layer health section: a heatmap of layers × steps, lines for the layers the reader picks, and a table,
// for one run at a time (a menu picks it when several runs have per-layer norms).
import type { ChartData } from '../../buildChartData.js';
import { byId, el } from '../dom.js';
import { state } from '../state.js';
import { healthTable } from './healthTable.js';
import { heatmap } from './heatmap.js';
import { type LayeredRun, layerGutter, runsWithLayers } from './layeredRun.js';
import { layerLines } from './layerLines.js';
import { picksOf } from './picks.js';

/** The run the section shows: the reader's choice while it is there, else the first with layers. */
export function currentLayerRun(data: ChartData): LayeredRun | null {
  const withLayers = runsWithLayers(data);
  if (!withLayers.some((r) => r.run === state.layerRun)) state.layerRun = withLayers.length ? withLayers[0]!.run : null;
  return withLayers.find((r) => r.run === state.layerRun) ?? null;
}

export function layerSection(data: ChartData, width: number): void {
  for (const u of state.layerCharts) u.destroy();
  state.layerCharts = [];
  for (const id of ['layer-heatmap', 'layer-lines', 'layer-table', 'layer-scale', 'layer-readout']) byId(id).replaceChildren();
  const withLayers = runsWithLayers(data);
  byId('layer-empty').hidden = withLayers.length > 0;
  byId('layer-body').hidden = withLayers.length === 0;
  const run = currentLayerRun(data);
  if (run === null) return;
  byId('layer-run').replaceChildren(
    ...withLayers.map((r) => {
      const option = el('option', { value: r.run, text: r.run });
      option.selected = r.run === state.layerRun;
      return option;
    }),
  );
  byId('layer-run-label').hidden = withLayers.length < 2;
  picksOf(run);
  const size = run.layers.bucketSize;
  byId('layer-note').textContent =
    size > 1
      ? `Downsampled to buckets of ${size} steps: a cell is the geometric mean of its bucket, a line its minimum and maximum. ` +
        'The table uses every step.'
      : '';
  const gutter = layerGutter(run);
  state.layerCharts.push(heatmap(run, width, gutter));
  state.layerCharts.push(layerLines(run, width, gutter));
  byId('layer-table').appendChild(healthTable(run));
  window.gradpipeLayerCharts = state.layerCharts; // for the browser's devtools and the tests
}
