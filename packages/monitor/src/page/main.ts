// The gradpipe report page: draws the chart data embedded in #gradpipe-data with uPlot (inlined before this
// script) and, on a live page (`gradpipe serve`), redraws whenever the server sends new data. Data that is not
// the ChartData of buildChartData is refused with a message on the page, never drawn from.
// Bundled by scripts/bundle-page.mjs into assets/page.js, which renderPage inlines.
import { parseChartData } from './chartData.js';
import { byId } from './dom.js';
import { followLive } from './live.js';
import { chartWidth, refuse, render } from './render.js';
import { allPlots, state } from './state.js';

function redraw(): void {
  if (state.lastData) render(state.lastData);
}

function start(): void {
  const embedded = parseChartData(byId('gradpipe-data').textContent ?? '');
  byId<HTMLInputElement>('loss-log').addEventListener('change', (e) => {
    state.lossLog = (e.target as HTMLInputElement).checked;
    redraw();
  });
  byId<HTMLSelectElement>('layer-run').addEventListener('change', (e) => {
    state.layerRun = (e.target as HTMLSelectElement).value;
    redraw();
  });
  if (embedded.ok) render(embedded.data);
  else refuse(embedded.problems);
  window.addEventListener('resize', () => {
    const width = chartWidth();
    for (const u of allPlots()) u.setSize({ width, height: u.height });
  });
  if (document.body.getAttribute('data-live') !== 'true') return;
  followLive((json) => {
    const update = parseChartData(json);
    if (!update.ok) {
      refuse(update.problems);
      return;
    }
    byId('problem').hidden = true;
    render(update.data);
  });
}

start();
