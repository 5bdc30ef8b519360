/// <reference lib="dom" />
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StepEvent } from '@gradpipe/core';

/** Colours of the series (the report's blue for "before"). */
const BEFORE = '#2563eb';
const AFTER = '#16a34a';
const THRESHOLD = 'rgba(245, 158, 11, 0.45)';
const LOSS = '#7c3aed';
const LAYERS = ['#0891b2', '#db2777', '#65a30d', '#ea580c', '#4f46e5', '#0d9488'];

/** A tick label: plain for everyday magnitudes, `1e12` style beyond (an exploding run reaches 1e30). */
function tick(v: number): string {
  return v >= 1e5 || v < 1e-3 ? v.toExponential(0).replace('e+', 'e') : String(Number(v.toPrecision(3)));
}

/**
 * Labels for a log axis: the decades only, and every k-th of them when the range spans many (at most about five
 * labels), so a diverging run's axis stays legible. A range within less than two decades (a loss between 2e4 and
 * 6e4) gets its 1-2-5 steps labelled instead, so that it is not left with one label or none.
 */
function decadeLabels(_u: uPlot, splits: number[]): string[] {
  const decades = splits.filter((v) => Number.isInteger(Math.round(Math.log10(v) * 1e6) / 1e6));
  if (decades.length < 2) {
    return splits.map((v) => ([1, 2, 5].includes(Number((v / 10 ** Math.floor(Math.log10(v) + 1e-9)).toPrecision(3))) ? tick(v) : ''));
  }
  const every = Math.max(1, Math.ceil(decades.length / 5));
  return splits.map((v) => {
    const e = Math.log10(v);
    return Math.abs(e - Math.round(e)) < 1e-6 && Math.round(e) % every === 0 ? tick(v) : '';
  });
}

/** A series label without the `_1`, `_2` tfjs-layers appends to the names of a re-created model's variables. */
const layerLabel = (name: string) => name.replace(/_\d+$/, '');

/** A value a log axis can draw: positive and finite, else a gap. */
const positive = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) && v > 0 ? v : null);

/** One uPlot chart with a log y axis, fed point by point and redrawn at most once per frame. */
class LiveChart {
  readonly plot: uPlot;
  private readonly data: (number | null)[][];
  private pending = false;

  constructor(element: HTMLElement, title: string, series: { label: string; stroke: string; width?: number }[]) {
    this.data = [[], ...series.map(() => [])];
    element.replaceChildren();
    this.plot = new uPlot(
      {
        title,
        width: Math.max(400, element.clientWidth),
        height: 240,
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [{ label: 'step' }, { size: 56, values: decadeLabels }],
        series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: s.width ?? 1.5, spanGaps: false }))],
      },
      this.data as uPlot.AlignedData,
      element,
    );
  }

  /** Adds the values of one step (x first). */
  push(x: number, values: (number | null)[]): void {
    this.data[0]!.push(x);
    values.forEach((v, i) => this.data[i + 1]!.push(v));
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot.setData(this.data as uPlot.AlignedData);
    });
  }

  /** Draws what has arrived now (the last frame may not have come yet). */
  flush(): void {
    this.plot.setData(this.data as uPlot.AlignedData);
  }
}

/** The page's three charts: norms before/after with the threshold, the loss, and the per-layer norms. */
export class RunCharts {
  private readonly norms: LiveChart;
  private readonly loss: LiveChart;
  private layers: LiveChart | undefined;
  private layerNames: string[] = [];

  constructor(
    normElement: HTMLElement,
    lossElement: HTMLElement,
    private readonly layerElement: HTMLElement,
  ) {
    // Drawn in this order, so that equal lines stay visible: the threshold as a wide pale band, the norm after
    // clipping over it, the norm before (thin) on top.
    this.norms = new LiveChart(normElement, 'Global gradient norm per step (log scale)', [
      { label: 'threshold', stroke: THRESHOLD, width: 6 },
      { label: '‖g‖ after', stroke: AFTER, width: 3 },
      { label: '‖g‖ before', stroke: BEFORE },
    ]);
    this.loss = new LiveChart(lossElement, 'Loss per step (log scale)', [{ label: 'loss', stroke: LOSS }]);
    layerElement.replaceChildren();
  }

  /** Adds one step's event to every chart. */
  push(e: StepEvent): void {
    this.norms.push(e.step, [positive(e.threshold), positive(e.normAfter), positive(e.normBefore)]);
    this.loss.push(e.step, [positive(e.loss)]);
    if (e.tensorNorms) {
      if (!this.layers) {
        this.layerNames = Object.keys(e.tensorNorms);
        this.layers = new LiveChart(
          this.layerElement,
          'Gradient norm per layer, before clipping (log scale)',
          this.layerNames.map((name, i) => ({ label: layerLabel(name), stroke: LAYERS[i % LAYERS.length]! })),
        );
      }
      this.layers.push(
        e.step,
        this.layerNames.map((name) => positive(e.tensorNorms![name])),
      );
    }
  }

  /** Every uPlot instance, for tests and the console. */
  get plots(): uPlot[] {
    return [this.norms.plot, this.loss.plot, ...(this.layers ? [this.layers.plot] : [])];
  }

  /** Redraws everything that has arrived. */
  flush(): void {
    for (const c of [this.norms, this.loss, this.layers]) c?.flush();
  }
}
