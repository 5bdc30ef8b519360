// What all charts share: one cursor, and zooming one zooms the others.
import type uPlot from 'uplot';
import { allPlots, state } from './state.js';

/** Zooming one chart zooms the others to the same steps (once all are drawn); the cursors move together. */
export function syncX(u: uPlot, key: string): void {
  if (key !== 'x' || !state.ready) return;
  state.ready = false;
  const { min, max } = u.scales.x!;
  for (const o of allPlots()) if (o !== u) o.setScale('x', { min: min!, max: max! });
  state.ready = true;
}

/** No horizontal crosshair: it looked like one more dashed threshold line. */
export const cursor: uPlot.Cursor = { y: false, drag: { x: true, y: false }, sync: { key: 'gradpipe-steps' } };
