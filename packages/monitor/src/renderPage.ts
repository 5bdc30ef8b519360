import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChartData } from './buildChartData.js';
import { describeValue, MonitorError } from './MonitorError.js';
import { stringifyKeepingNonFinite } from './nonFinite.js';
import { escapeHtml, pageBody } from './pageBody.js';
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
  // JSON inside <script type="application/json">: escaping '<' keeps '</script>' in a run name harmless.
  const json = dataJson.replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="@gradpipe/monitor">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${inlineSafe(a.uplotCss, 'style')}</style>
<style>${inlineSafe(a.pageCss, 'style')}</style>
</head>
<body data-live="${live}">
${pageBody(title, live)}<script type="application/json" id="gradpipe-data">${json}</script>
<script>${inlineSafe(a.uplotJs, 'script')}</script>
<script>${inlineSafe(a.pageJs, 'script')}</script>
</body>
</html>
`;
}
