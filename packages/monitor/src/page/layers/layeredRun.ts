// The runs that have per-layer norms, and how their layers are labelled.
import type { ChartData, RunChartData } from '../../buildChartData.js';
import type { LayerHealth, LayerSeries } from '../../LayerTracker.js';
import { context2d } from '../dom.js';

/** A run whose steps carry per-tensor norms. */
export type LayeredRun = RunChartData & { layers: LayerSeries };

export const FLAG_TEXT: Record<LayerHealth['flag'], string> = { vanishing: 'vanishing', exploding: 'exploding', ok: 'ok' };

export function runsWithLayers(data: ChartData): LayeredRun[] {
  return data.runs.filter((r): r is LayeredRun => r.layers !== undefined && r.layers.layers.length > 0);
}

/** The i-th layer's name, with its flag when it has one. */
export function layerLabel(run: LayeredRun, i: number): string {
  const h = run.summary.layers[i];
  const name = run.layers.layers[i]!.name;
  return h && h.flag !== 'ok' ? `${name} · ${FLAG_TEXT[h.flag]}` : name;
}

/** Room for the layer names left of both per-layer charts (the same on both, so their x axes line up). */
export function layerGutter(run: LayeredRun): number {
  const ctx = context2d(document.createElement('canvas'));
  ctx.font = '12px system-ui, sans-serif';
  const widest = run.layers.layers.reduce((w, _l, i) => Math.max(w, ctx.measureText(layerLabel(run, i)).width), 0);
  return Math.min(300, Math.max(90, Math.ceil(widest + 24)));
}
