import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChartData } from './buildChartData.js';
import { MonitorError, describeValue } from './MonitorError.js';
import { stringifyKeepingNonFinite } from './nonFinite.js';
import { refuseUnknownKeys } from './summarizeRun.js';

/** Options of {@link renderPage}. */
export interface RenderPageOptions {
  /** A live page (served by `gradpipe serve`) listens for new data on `./events`. Default false. */
  live?: boolean;
}

// The assets sit one folder above this module both in src/ (tests) and in dist/ (the package). page.js and page.css
// are the page script and stylesheet, bundled from src/page/ by scripts/bundle-page.mjs (committed, checked by a test).
const assetsDir = new URL('../assets/', import.meta.url);
const require = createRequire(import.meta.url);
let assets: { uplotJs: string; uplotCss: string; pageJs: string; pageCss: string } | undefined;

/** Reads the inlined files once per process. */
function loadAssets() {
  assets ??= {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    pageJs: readFileSync(new URL('page.js', assetsDir), 'utf8'),
    pageCss: readFileSync(new URL('page.css', assetsDir), 'utf8'),
  };
  return assets;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text placed inside a <script> or <style> element must not contain the element's end tag. */
function inlineSafe(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</${tag}`, 'gi'), `<\\/${tag}`);
}

/**
 * The report page as one self-contained HTML string: uPlot's script and stylesheet, the page script and the
 * data are all inlined, so the file opens from disk with no network.
 *
 * @example
 * ```ts
 * import { buildChartData, readJsonl, renderPage } from '@gradpipe/monitor';
 * const records = await readJsonl('runs/clip.jsonl');
 * const html = renderPage(buildChartData([{ run: 'clip', files: ['runs/clip.jsonl'], records }]));
 * ```
 */
export function renderPage(data: ChartData, options: RenderPageOptions = {}): string {
  const fn = 'renderPage';
  if (typeof data !== 'object' || data === null || !Array.isArray(data.runs)) {
    throw new MonitorError(fn, `data must be the ChartData of buildChartData, got ${describeValue(data)}`);
  }
  refuseUnknownKeys(fn, options, ['live']);
  return renderPageJson(stringifyKeepingNonFinite(data), data.title, options.live === true);
}

/** The page around chart data already turned into JSON (non-finite numbers spelled out, as in the log). */
export function renderPageJson(dataJson: string, title: string, live: boolean): string {
  const a = loadAssets();
  const data = { title };
  // JSON inside <script type="application/json">: escaping '<' keeps '</script>' in a run name harmless.
  const json = dataJson.replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@gradpipe/monitor">
<link rel="icon" href="data:,">
<title>${escapeHtml(data.title)}</title>
<style>${inlineSafe(a.uplotCss, 'style')}</style>
<style>${inlineSafe(a.pageCss, 'style')}</style>
</head>
<body data-live="${live}">
<h1><span id="title">${escapeHtml(data.title)}</span>${live ? '<span id="live" class="live off">connecting…</span>' : '<span id="live" hidden></span>'}</h1>
<p class="meta" id="meta"></p>
<div class="problem" id="problem" hidden></div>
<div class="note" id="downsampled" hidden></div>
<h2>Summary</h2>
<div id="summary"></div>
<div id="charts">
<div class="legend-bar">
<div class="legend" id="legend" aria-label="runs: click one to hide or show it"></div>
<p class="key"><span><svg width="22" height="8" aria-hidden="true"><line x1="0" y1="4" x2="22" y2="4" stroke="#6b7280" stroke-opacity="0.4" stroke-width="1.5"/></svg>before clipping</span><span><svg width="22" height="8" aria-hidden="true"><line x1="0" y1="4" x2="22" y2="4" stroke="#6b7280" stroke-width="2"/></svg>after clipping</span><span><svg width="22" height="8" aria-hidden="true"><line x1="0" y1="4" x2="22" y2="4" stroke="#6b7280" stroke-width="1.5" stroke-dasharray="5 3"/></svg>threshold</span><span class="sep">strips above the charts, one lane per run:</span><span><i class="bar" style="background:#f59e0b"></i>clipped</span><span><i class="bar thick" style="background:#7c3aed"></i>skipped</span><span><i class="bar thick" style="background:#7f1d1d"></i>non-finite (NaN/Inf: the line has a gap)</span><span><i class="tick"></i><span id="spike-rule">spike</span></span><br><span class="sep">click a run to hide or show it (the y axes rescale) · drag to zoom, double-click to reset</span><span id="cursor-step" class="cursor-step"></span></p>
</div>
<h2>Gradient norm</h2>
<div class="chart" id="norm-chart"></div>
<h2>Loss <label class="toggle"><input type="checkbox" id="loss-log" checked> log scale (when every loss is positive)</label></h2>
<div class="chart" id="loss-chart"></div>
</div>
<div id="layer-section">
<h2>Per-layer gradient health <label class="toggle" id="layer-run-label" hidden>run <select id="layer-run"></select></label></h2>
<p class="empty" id="layer-empty">No per-layer norms in these logs: make the pipeline with <code>new GradientPipeline(transforms, { tensorNorms: true })</code> and the recorder writes one norm per tensor.</p>
<div id="layer-body" hidden>
<p class="key">One row per layer (tensor), first layers on top; colour: the gradient norm on a log scale. Click a row (or tick it in the table) to draw its line below; drag to zoom, double-click to reset. Flags: <b>exploding</b> when a norm was NaN or ±Infinity, or the median of the last 100 steps is over 1e6 times that of the first 100; <b>vanishing</b> when the median of the last 100 steps is below 1e-8, or below 1e-6 times the median over all layers. <span id="layer-note"></span></p>
<div class="chart" id="layer-heatmap"></div>
<div class="scale" id="layer-scale"></div>
<p class="readout" id="layer-readout"></p>
<div class="chart" id="layer-lines"></div>
<h3>Layer health</h3>
<div id="layer-table"></div>
</div>
</div>
<script type="application/json" id="gradpipe-data">${json}</script>
<script>${inlineSafe(a.uplotJs, 'script')}</script>
<script>${inlineSafe(a.pageJs, 'script')}</script>
</body>
</html>
`;
}
