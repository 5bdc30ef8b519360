// The gradient-norm chart: per run, the norm before and after clipping and the threshold, on a log scale, with
// an event strip above (clipped, skipped, non-finite, spike).
import type uPlot from 'uplot';
import type { ChartData } from '../buildChartData.js';
import { colorOf, MARK } from './colors.js';
import { cursor, syncX } from './cursor.js';
import { byId } from './dom.js';
import { showValues, valueAt } from './legend.js';
import { log10s, logAxis, logRange } from './logScale.js';
import { type RunChart, state } from './state.js';
import { drawStrip, type Lane, stripHeight } from './strip.js';
import { joinRuns, Plot } from './uplot.js';

export function normChart(data: ChartData, width: number): RunChart {
  const tables: uPlot.AlignedData[] = [];
  const series: uPlot.Series[] = [{ label: 'step' }];
  const seriesOf = new Map<string, number[]>();
  const lanes: Lane[] = [];
  data.runs.forEach((r, i) => {
    const n = r.norms;
    const c = colorOf(i);
    tables.push([n.step, log10s(n.before), log10s(n.after), log10s(n.threshold)]);
    const first = series.length;
    seriesOf.set(r.run, [first, first + 1, first + 2]);
    const show = !state.hidden.has(r.run);
    series.push(
      { label: `${r.run} · before`, stroke: c, width: 1, alpha: 0.4, show },
      { label: `${r.run} · after`, stroke: c, width: 1.75, show },
      { label: `${r.run} · threshold`, stroke: c, width: 1, dash: [6, 4], alpha: 0.8, show },
    );
    lanes.push({
      run: r.run,
      color: c,
      marks: [
        { steps: n.step, flags: n.clipped, color: MARK.clipped },
        { steps: n.step, flags: n.nonFinite, color: MARK.nonFinite, thick: true },
        { steps: n.step, flags: n.skipped, color: MARK.skipped, thick: true },
        { steps: n.step, flags: n.spike, color: MARK.spike, tick: true },
      ],
    });
  });
  const plot = new Plot(
    {
      width,
      height: 340 + stripHeight(lanes),
      title: 'Gradient norm per step (log scale)',
      padding: [stripHeight(lanes), 16, 0, state.plotLeft - 64],
      legend: { show: false },
      scales: { x: { time: false }, y: { range: logRange } },
      axes: [{ label: 'step' }, logAxis('global L2 norm')],
      series,
      cursor,
      hooks: {
        setScale: [syncX],
        draw: [drawStrip(lanes)],
        setCursor: [showValues('norm', seriesOf, (u, s, idx) => `norm ${valueAt(u, s[0]!, idx, true)} → ${valueAt(u, s[1]!, idx, true)}`)],
      },
    },
    joinRuns(tables),
    byId('norm-chart'),
  );
  return { plot, seriesOf };
}
