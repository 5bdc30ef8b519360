// The report page's markup between <body> and the scripts: the elements the page script fills. Written out here,
// piece by piece, so that each part reads on its own; renderPage puts it together with the inlined assets.

/** Text for HTML: `&<>"'` become character references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A key entry for one kind of line: a short grey stroke drawn as the charts draw that line. */
function lineKey(label: string, stroke: string): string {
  const line = `<line x1="0" y1="4" x2="22" y2="4" stroke="#6b7280" ${stroke}/>`;
  return `<span><svg width="22" height="8" aria-hidden="true">${line}</svg>${label}</span>`;
}

/** A key entry for one kind of event-strip bar (the colours are the page script's MARK colours). */
function barKey(label: string, bar: string, colour: string): string {
  return `<span><i class="${bar}" style="background:${colour}"></i>${label}</span>`;
}

/** The key under the run legend: the lines, the event strips' marks, and how to use the charts. */
const CHART_KEY = [
  lineKey('before clipping', 'stroke-opacity="0.4" stroke-width="1.5"'),
  lineKey('after clipping', 'stroke-width="2"'),
  lineKey('threshold', 'stroke-width="1.5" stroke-dasharray="5 3"'),
  '<span class="sep">strips above the charts, one lane per run:</span>',
  barKey('clipped', 'bar', '#f59e0b'),
  barKey('skipped', 'bar thick', '#7c3aed'),
  barKey('non-finite (NaN/Inf: the line has a gap)', 'bar thick', '#7f1d1d'),
  '<span><i class="tick"></i><span id="spike-rule">spike</span></span>',
  '<br>',
  '<span class="sep">click a run to hide or show it (the y axes rescale) · drag to zoom, double-click to reset</span>',
  '<span id="cursor-step" class="cursor-step"></span>',
].join('');

/** The per-layer section's key: how to read the heatmap and the flags' rule. */
const LAYER_KEY = [
  'One row per layer (tensor), first layers on top; colour: the gradient norm on a log scale. ',
  'Click a row (or tick it in the table) to draw its line below; drag to zoom, double-click to reset. ',
  'Flags: <b>exploding</b> when a norm was NaN or ±Infinity, ',
  'or the median of the last 100 steps is over 1e6 times that of the first 100; ',
  '<b>vanishing</b> when the median of the last 100 steps is below 1e-8, or below 1e-6 times the median over all layers. ',
  '<span id="layer-note"></span>',
].join('');

const NO_LAYERS =
  'No per-layer norms in these logs: make the pipeline with ' +
  '<code>new GradientPipeline(transforms, { tensorNorms: true })</code> and the recorder writes one norm per tensor.';

/** The markup of the page's body, up to the scripts. `live`: a page served by `gradpipe serve`. */
export function pageBody(title: string, live: boolean): string {
  const badge = live ? '<span id="live" class="live off">connecting…</span>' : '<span id="live" hidden></span>';
  return `<h1><span id="title">${escapeHtml(title)}</span>${badge}</h1>
<p class="meta" id="meta"></p>
<div class="problem" id="problem" hidden></div>
<div class="note" id="downsampled" hidden></div>
<h2>Summary</h2>
<div id="summary"></div>
<div id="charts">
<div class="legend-bar">
<div class="legend" id="legend" aria-label="runs: click one to hide or show it"></div>
<p class="key">${CHART_KEY}</p>
</div>
<h2>Gradient norm</h2>
<div class="chart" id="norm-chart"></div>
<h2>Loss <label class="toggle"><input type="checkbox" id="loss-log" checked> log scale (when every loss is positive)</label></h2>
<div class="chart" id="loss-chart"></div>
</div>
<div id="layer-section">
<h2>Per-layer gradient health <label class="toggle" id="layer-run-label" hidden>run <select id="layer-run"></select></label></h2>
<p class="empty" id="layer-empty">${NO_LAYERS}</p>
<div id="layer-body" hidden>
<p class="key">${LAYER_KEY}</p>
<div class="chart" id="layer-heatmap"></div>
<div class="scale" id="layer-scale"></div>
<p class="readout" id="layer-readout"></p>
<div class="chart" id="layer-lines"></div>
<h3>Layer health</h3>
<div id="layer-table"></div>
</div>
</div>
`;
}
