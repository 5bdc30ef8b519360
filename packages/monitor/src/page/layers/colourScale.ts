// The colour key under the heatmap: the viridis bar labelled in decades, then the special cells.
import { CELL, viridis } from '../colors.js';
import { byId, context2d, el, pixelRatio } from '../dom.js';
import { formatTick } from '../format.js';
import { pow10 } from '../logScale.js';

/** Fills #layer-scale for cells coloured over log10 values in `range`. */
export function colourScale(range: readonly [number, number]): void {
  const box = byId('layer-scale');
  const px = pixelRatio();
  const w = 260;
  const canvas = el('canvas', { width: String(w * px), height: String(12 * px), style: `width:${w}px;height:12px`, 'aria-hidden': 'true' });
  const ctx = context2d(canvas);
  for (let x = 0; x < w * px; x++) {
    ctx.fillStyle = viridis(x / (w * px - 1));
    ctx.fillRect(x, 0, 1, 12 * px);
  }
  // Decades (every k-th one over a wide range); over a narrow range also 2 and 5 times each, like the log axes.
  const ticks: number[] = [];
  const span = range[1] - range[0];
  const every = Math.max(1, Math.ceil(span / 6));
  const mults = span <= 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(range[0] / every) * every; e <= range[1] + 1e-9; e += every) {
    for (const m of mults) {
      const t = e + Math.log10(m);
      if (t >= range[0] - 1e-9 && t <= range[1] + 1e-9) ticks.push(t);
    }
  }
  const labels = el(
    'div',
    { class: 'scale-labels', style: `width:${w}px` },
    ticks.map((t) => el('span', { style: `left:${((t - range[0]) / (range[1] - range[0])) * 100}%`, text: formatTick(pow10(t)) })),
  );
  box.replaceChildren(
    el('span', { class: 'scale-bar' }, [canvas, labels]),
    el('span', {}, [el('i', { class: 'cell', style: `background:${CELL.nonFinite}` }), 'non-finite (NaN or ±Infinity)']),
    el('span', {}, [el('i', { class: 'cell', style: `background:${CELL.zero}` }), 'zero']),
    el('span', {}, [el('i', { class: 'cell empty-cell' }), 'not logged']),
  );
}
