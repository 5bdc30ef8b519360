// The lines of the picked layers: their gradient norm per step, on a log scale, under the heatmap.
import type uPlot from 'uplot';
import { layerColor } from '../colors.js';
import { cursor, syncX } from '../cursor.js';
import { byId } from '../dom.js';
import { valueAt } from '../legend.js';
import { log10s, logAxis, logRange } from '../logScale.js';
import { state } from '../state.js';
import { Plot } from '../uplot.js';
import type { LayeredRun } from './layeredRun.js';
import { picksOf } from './picks.js';

export function layerLines(run: LayeredRun, width: number, gutter: number): uPlot {
  const L = run.layers;
  const chosen = picksOf(run);
  const table: uPlot.AlignedData = [L.step];
  const series: uPlot.Series[] = [{ label: 'step' }];
  L.layers.forEach((l, i) => {
    table.push(log10s(l.line));
    series.push({ label: l.name, stroke: layerColor(i), width: 1.5, show: chosen.has(l.name) });
  });
  const readout = (u: uPlot): void => {
    const idx = u.cursor.idx;
    const node = byId('layer-readout');
    if (idx == null) {
      node.textContent = '';
      return;
    }
    const parts: string[] = [];
    L.layers.forEach((l, i) => {
      if (chosen.has(l.name)) parts.push(`${l.name} ${valueAt(u, i + 1, idx, true)}`);
    });
    node.textContent = `step ${u.data[0][idx]}: ${parts.length ? parts.join(' · ') : 'no layer picked'}`;
  };
  const axis = logAxis('L2 norm');
  axis.size = gutter;
  return new Plot(
    {
      width,
      height: 280,
      title: 'Gradient norm of the picked layers (log scale)',
      padding: [10, 16, 0, state.plotLeft - gutter],
      legend: { show: false },
      scales: { x: { time: false }, y: { range: logRange } },
      axes: [{ label: 'step' }, axis],
      series,
      cursor,
      hooks: { setScale: [syncX], setCursor: [readout] },
    },
    table,
    byId('layer-lines'),
  );
}
