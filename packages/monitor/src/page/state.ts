// What the page keeps between draws: the charts, and the reader's choices, which live updates keep.
import type uPlot from 'uplot';
import type { ChartData } from '../buildChartData.js';

/** A chart with series per run, and which of its series (indexes) belong to which run. */
export interface RunChart {
  readonly plot: uPlot;
  readonly seriesOf: ReadonlyMap<string, readonly number[]>;
}

declare global {
  interface Window {
    /** The norm and loss charts, for the browser's devtools and the tests. */
    gradpipeCharts?: uPlot[];
    /** The per-layer heatmap and lines. */
    gradpipeLayerCharts?: uPlot[];
  }
}

export const state = {
  /** The norm chart and, when some run has a loss, the loss chart. */
  charts: [] as RunChart[],
  /** The per-layer heatmap and lines chart, when a run has per-layer norms. */
  layerCharts: [] as uPlot[],
  /** The loss chart's log-scale box. */
  lossLog: true,
  /** The data drawn last, drawn again when a control changes. */
  lastData: null as ChartData | null,
  /** The runs the reader has hidden. */
  hidden: new Set<string>(),
  /**
   * Where every chart's plot area starts (css px from its left edge), the same for all so that one step is at the
   * same x everywhere: room for the run names of the event strips plus the y axis (64 px), or for the layer names.
   */
  plotLeft: 64,
  /** False while the charts are being made or zoomed together (see syncX). */
  ready: false,
  /** The run the per-layer section shows. */
  layerRun: null as string | null,
  /** Per run: the layers drawn as lines. */
  picks: new Map<string, Set<string>>(),
};

/** Every chart on the page. */
export function allPlots(): uPlot[] {
  return [...state.charts.map((c) => c.plot), ...state.layerCharts];
}
