// The layers drawn as lines: the reader picks them (a click on a heatmap row, a box in the table).
import { state } from '../state.js';
import type { LayeredRun } from './layeredRun.js';

/**
 * Without a choice yet: the flagged layers (up to six); with fewer than two, also the layers with the smallest and
 * the largest recent median, so the lines show the spread.
 */
function defaultPicks(run: LayeredRun): Set<string> {
  const h = run.summary.layers;
  const chosen = new Set<string>();
  for (const l of h.filter((x) => x.flag !== 'ok').slice(0, 6)) chosen.add(l.name);
  if (chosen.size < 2) {
    const ranked = h.filter((l) => typeof l.median === 'number').sort((a, b) => a.median! - b.median!);
    if (ranked.length) {
      chosen.add(ranked[0]!.name);
      chosen.add(ranked[ranked.length - 1]!.name);
    } else if (h.length) {
      chosen.add(h[0]!.name);
    }
  }
  return chosen;
}

/** The run's picked layers (kept across live updates); the default ones the first time. */
export function picksOf(run: LayeredRun): Set<string> {
  let chosen = state.picks.get(run.run);
  if (chosen === undefined) {
    chosen = defaultPicks(run);
    state.picks.set(run.run, chosen);
  }
  return chosen;
}

/** Draws the layer's line, or removes it, and ticks its box in the table to match. */
export function togglePick(run: LayeredRun, name: string): void {
  const chosen = picksOf(run);
  if (chosen.has(name)) chosen.delete(name);
  else chosen.add(name);
  const lines = state.layerCharts[1];
  if (lines) {
    lines.batch(() => {
      run.layers.layers.forEach((l, i) => {
        const show = chosen.has(l.name);
        if (lines.series[i + 1]!.show !== show) lines.setSeries(i + 1, { show });
      });
    });
  }
  document.querySelectorAll('#layer-table tr[data-layer]').forEach((tr) => {
    tr.querySelector('input')!.checked = chosen.has(tr.getAttribute('data-layer')!);
  });
}
