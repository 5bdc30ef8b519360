// uPlot's constructor. The page inlines uPlot's IIFE build before this script; that build sets the global `uPlot`.
// The types come from the uplot package (the bundle imports nothing from it).
import type uPlot from 'uplot';

export const Plot = (globalThis as unknown as { uPlot: typeof uPlot }).uPlot;

/**
 * The runs' tables on one x axis. Nulls (gaps: non-finite values) are kept; steps one run lacks become undefined,
 * which uPlot spans over.
 */
export function joinRuns(tables: uPlot.AlignedData[]): uPlot.AlignedData {
  return Plot.join(
    tables,
    tables.map((t) => t.map(() => 1 as uPlot.JoinNullMode)),
  );
}
