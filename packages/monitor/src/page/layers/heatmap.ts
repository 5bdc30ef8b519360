// The heatmap: one row per layer (first layers on top), one cell per bucket of steps, coloured by the gradient
// norm on a log scale. Hovering describes a cell; a click on a row draws or removes that layer's line.
import type uPlot from 'uplot';
import type { LayerSeries } from '../../LayerTracker.js';
import { CELL, viridis } from '../colors.js';
import { cursor, syncX } from '../cursor.js';
import { byId } from '../dom.js';
import { formatValue } from '../format.js';
import { allSplits } from '../logScale.js';
import { state } from '../state.js';
import { Plot } from '../uplot.js';
import { colourScale } from './colourScale.js';
import { type LayeredRun, layerLabel } from './layeredRun.js';
import { picksOf, togglePick } from './picks.js';

/** The cells' colour range: log10 of the smallest and largest geometric mean (at least one decade wide). */
function cellRange(run: LayeredRun): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of run.layers.layers) {
    for (const v of l.mean) {
      if (typeof v === 'number' && v > 0) {
        const g = Math.log10(v);
        if (g < lo) lo = g;
        if (g > hi) hi = g;
      }
    }
  }
  if (lo === Infinity) return [0, 1];
  if (hi - lo < 1) {
    const mid = (hi + lo) / 2;
    return [mid - 0.5, mid + 0.5];
  }
  return [lo, hi];
}

/** The bucket that holds `step`, or -1. */
function bucketAt(L: LayerSeries, step: number): number {
  let lo = 0;
  let hi = L.from.length - 1;
  if (hi < 0 || step < L.from[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (L.from[mid]! <= step) lo = mid;
    else hi = mid - 1;
  }
  return step <= L.to[lo]! + 0.999 || lo === L.from.length - 1 ? lo : -1;
}

/** What the cell under the cursor stands for, in words. */
function describeCell(run: LayeredRun, i: number, k: number): string {
  const L = run.layers;
  const l = L.layers[i]!;
  const steps = L.from[k] === L.to[k] ? `step ${L.from[k]}` : `steps ${L.from[k]}–${L.to[k]}`;
  const mean = l.mean[k];
  const what = l.nonFinite[k]
    ? 'a non-finite norm (NaN or ±Infinity)'
    : typeof mean === 'number'
      ? `norm ${formatValue(mean)}${L.bucketSize > 1 ? ' (geometric mean)' : ''}`
      : l.zero[k]
        ? 'norm 0'
        : 'no norm logged';
  return `${l.name}, ${steps}: ${what} · click to ${picksOf(run).has(l.name) ? 'remove its line' : 'draw its line'}`;
}

export function heatmap(run: LayeredRun, width: number, gutter: number): uPlot {
  const L = run.layers;
  const n = L.layers.length;
  const K = L.from.length;
  const range = cellRange(run);
  const rowPx = Math.max(14, Math.min(30, Math.floor(360 / n)));
  // The x data: every bucket's first step and the last step, so the x range is the other charts' range.
  const xs = L.to[K - 1]! > L.from[K - 1]! ? L.from.concat([L.to[K - 1]!]) : L.from.slice();
  const none = xs.map(() => null);
  const rows: number[] = [];
  for (let r = 0; r < n; r++) rows.push(r);
  const drawCells = (u: uPlot): void => {
    const ctx = u.ctx;
    const b = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(b.left, b.top, b.width, b.height);
    ctx.clip();
    const xmin = u.scales.x!.min!;
    const xmax = u.scales.x!.max!;
    L.layers.forEach((l, i) => {
      const row = n - 1 - i; // the first layer on top
      const y0 = u.valToPos(row + 0.5, 'y', true);
      const y1 = u.valToPos(row - 0.5, 'y', true);
      for (let k = 0; k < K; k++) {
        // A cell reaches half a step beyond its bucket's first and last step: centred on the steps it stands for.
        const start = L.from[k]! - 0.5;
        const end = (k + 1 < K ? L.from[k + 1]! : L.to[k]! + 1) - 0.5;
        if (end < xmin || start > xmax) continue;
        const mean = l.mean[k];
        let colour: string | null = null;
        if (l.nonFinite[k]) colour = CELL.nonFinite;
        else if (typeof mean === 'number') colour = viridis((Math.log10(mean) - range[0]) / (range[1] - range[0]));
        else if (l.zero[k]) colour = CELL.zero;
        if (!colour) continue;
        const x0 = u.valToPos(start, 'x', true);
        const x1 = u.valToPos(end, 'x', true);
        ctx.fillStyle = colour;
        // Neighbouring cells overlap by a pixel fraction so no seams show between them.
        ctx.fillRect(x0, y0, Math.max(x1 - x0 + 0.5, 1), y1 - y0 + 0.5);
      }
    });
    ctx.restore();
  };
  let hovered = false; // the cursor follows the other charts too: describe a cell only while the mouse is here
  const readout = (u: uPlot): void => {
    const node = byId('layer-readout');
    if (!hovered) return;
    if (u.cursor.left == null || u.cursor.left < 0) {
      node.textContent = '';
      return;
    }
    const step = u.posToVal(u.cursor.left, 'x');
    const row = Math.round(u.posToVal(u.cursor.top!, 'y'));
    const i = n - 1 - row;
    const k = bucketAt(L, step);
    node.textContent = i < 0 || i >= n || k < 0 ? '' : describeCell(run, i, k);
  };
  const u = new Plot(
    {
      width,
      height: n * rowPx + 70,
      title: 'Gradient norm per layer and step (log colour scale)',
      padding: [6, 16, 0, state.plotLeft - gutter],
      legend: { show: false },
      scales: { x: { time: false }, y: { range: [-0.5, n - 0.5] } },
      axes: [
        { label: 'step' },
        {
          label: 'layer',
          size: gutter,
          gap: 4,
          splits: () => rows,
          filter: allSplits,
          values: (_u, splits) => splits.map((row) => layerLabel(run, n - 1 - row)),
          grid: { show: false },
          ticks: { show: false },
        },
      ],
      series: [{ label: 'step' }, { label: 'cells', stroke: 'transparent', points: { show: false } }],
      cursor,
      hooks: { setScale: [syncX], draw: [drawCells], setCursor: [readout] },
    },
    [xs, none],
    byId('layer-heatmap'),
  );
  // A click (not a drag, which zooms) on a row draws or removes that layer's line.
  let down: [number, number] | null = null;
  u.over.addEventListener('mouseenter', () => {
    hovered = true;
  });
  u.over.addEventListener('mouseleave', () => {
    hovered = false;
    byId('layer-readout').textContent = '';
  });
  u.over.addEventListener('mousedown', (e) => {
    down = [e.clientX, e.clientY];
  });
  u.over.addEventListener('click', (e) => {
    if (!down || Math.abs(e.clientX - down[0]) > 3 || Math.abs(e.clientY - down[1]) > 3) return;
    const row = Math.round(u.posToVal(e.offsetY, 'y'));
    const i = n - 1 - row;
    if (i >= 0 && i < n) togglePick(run, L.layers[i]!.name);
  });
  colourScale(range);
  return u;
}
