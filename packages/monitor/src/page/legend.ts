// The legend: one button per run (click: hide or show all of its series; the y axes rescale to what is shown),
// with the run's values at the cursor.
import type uPlot from 'uplot';
import type { ChartData } from '../buildChartData.js';
import { colorOf } from './colors.js';
import { byId, el } from './dom.js';
import { formatValue } from './format.js';
import { pow10 } from './logScale.js';
import { state } from './state.js';

/** Hides or shows each run's series on every chart, as the reader chose, and marks the legend's buttons. */
export function applyHidden(): void {
  for (const { plot: u, seriesOf } of state.charts) {
    u.batch(() => {
      for (const [run, indexes] of seriesOf) {
        const show = !state.hidden.has(run);
        for (const idx of indexes) if (u.series[idx]!.show !== show) u.setSeries(idx, { show });
      }
    });
    u.redraw(false);
  }
  document.querySelectorAll('#legend [data-run]').forEach((b) => {
    const off = state.hidden.has(b.getAttribute('data-run')!);
    b.classList.toggle('off', off);
    b.setAttribute('aria-pressed', String(!off));
  });
}

/** Fills #legend with the runs' buttons. */
export function legend(data: ChartData): void {
  const box = byId('legend');
  box.replaceChildren();
  data.runs.forEach((r, i) => {
    const b = el('button', { type: 'button', class: 'run', 'data-run': r.run, 'aria-pressed': 'true', title: `show / hide ${r.run}` }, [
      el('span', { class: 'swatch', style: `background:${colorOf(i)}` }),
      el('span', { class: 'name', text: r.run }),
      el('span', { class: 'val', 'data-val': 'norm' }),
      el('span', { class: 'val', 'data-val': 'loss' }),
    ]);
    b.addEventListener('click', () => {
      if (state.hidden.has(r.run)) state.hidden.delete(r.run);
      else state.hidden.add(r.run);
      applyHidden();
    });
    box.appendChild(b);
  });
}

/** How a run's values at the cursor read, from its series indexes. */
export type Describe = (u: uPlot, series: readonly number[], idx: number) => string;

/**
 * A setCursor hook: writes each run's values at the cursor step into its legend button (or clears them when the
 * cursor leaves).
 */
export function showValues(
  kind: 'norm' | 'loss',
  seriesOf: ReadonlyMap<string, readonly number[]>,
  describe: Describe,
): (u: uPlot) => void {
  return (u) => {
    const idx = u.cursor.idx;
    const step = idx == null ? null : u.data[0][idx];
    if (kind === 'norm') byId('cursor-step').textContent = step == null ? '' : `step ${step}`;
    for (const [run, series] of seriesOf) {
      const node = document.querySelector(`#legend [data-run="${CSS.escape(run)}"] [data-val="${kind}"]`);
      if (node) node.textContent = idx == null ? '' : describe(u, series, idx);
    }
  };
}

/** Series `s`'s value at point `idx`, as the legend and the readouts write it (`log`: the series holds log10s). */
export function valueAt(u: uPlot, s: number, idx: number, log: boolean): string {
  const v = u.data[s]![idx];
  return v == null ? '–' : formatValue(log ? pow10(v) : v);
}
