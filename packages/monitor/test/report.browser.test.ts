/// <reference lib="dom" />
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildChartData, type LiveServer, type ReportResult, serve, writeReport } from '@gradpipe/monitor';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringifyKeepingNonFinite } from '../src/nonFinite.js';
import { renderPageJson } from '../src/renderPage.js';
import { simulate } from './simulate.js';
import { useTmpDir } from './tmpdir.js';

// Screenshots and the generated report are kept here for a person to look at (gitignored).
const artifacts = fileURLToPath(new URL('../../../test-artifacts/monitor/', import.meta.url));
const tmp = useTmpDir();
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** A page that records every console error and uncaught exception. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { page, errors };
}

/**
 * For each chart canvas: how many pixels are drawn in each colour, counted in the plot area (where the lines
 * are: uPlot's bbox) and in the event strip above it (uPlot draws on a transparent canvas).
 */
function colouredPixels(page: Page, colours: [number, number, number][]) {
  return page.evaluate((colours) => {
    type Chart = { ctx: CanvasRenderingContext2D; bbox: { left: number; top: number; width: number; height: number } };
    const charts = (window as unknown as { gradpipeCharts: Chart[] }).gradpipeCharts;
    const count = (data: Uint8ClampedArray) => {
      const counts = colours.map(() => 0);
      let drawn = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! === 0) continue;
        drawn++;
        colours.forEach(([r, g, b], k) => {
          if (Math.abs(data[i]! - r) < 40 && Math.abs(data[i + 1]! - g) < 40 && Math.abs(data[i + 2]! - b) < 40 && data[i + 3]! > 200)
            counts[k]!++;
        });
      }
      return { drawn, counts };
    };
    return charts.map((u) => {
      const { left, top, width, height } = u.bbox;
      const { canvas } = u.ctx;
      // Read a copy: reading the page's own canvas more than once makes Chromium warn on the console.
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      copy.getContext('2d')!.drawImage(canvas, 0, 0);
      const all = copy.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const region = (x: number, y: number, w: number, h: number) => {
        const out = new Uint8ClampedArray(w * h * 4);
        for (let row = 0; row < h; row++)
          out.set(all.subarray(((y + row) * canvas.width + x) * 4, ((y + row) * canvas.width + x + w) * 4), row * w * 4);
        return out;
      };
      const plot = count(region(left, top, width, height));
      const strip = count(region(left, 0, width, top));
      return { width: canvas.width, height: canvas.height, drawn: plot.drawn, counts: plot.counts, strip: strip.counts };
    });
  }, colours);
}

/** The y-axis tick labels uPlot drew on each chart (its own record of them). */
function yLabels(page: Page) {
  return page.evaluate(() =>
    (window as unknown as { gradpipeCharts: { axes: { _values?: string[] }[] }[] }).gradpipeCharts.map((u) =>
      (u.axes[1]!._values ?? []).filter((v) => v !== ''),
    ),
  );
}

/** The summary table as { run: { field: text } }. */
function table(page: Page) {
  return page.$$eval('table.summary tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((row) => [
        row.getAttribute('data-run'),
        Object.fromEntries([...row.querySelectorAll('td')].map((td) => [td.getAttribute('data-field'), td.textContent])),
      ]),
    ),
  );
}

const BLUE: [number, number, number] = [0x25, 0x63, 0xeb];
const RED: [number, number, number] = [0xdc, 0x26, 0x26];
const AMBER: [number, number, number] = [0xf5, 0x9e, 0x0b]; // clipped
const DARK_RED: [number, number, number] = [0x7f, 0x1d, 0x1d]; // non-finite
const six = (v: number) => String(Number(v.toPrecision(6)));
/** A figure as the page prints it: 6 significant digits, exponent form from 1e6 up and below 1e-3. */
const pageFigure = (v: number) => {
  if (Math.abs(v) < 1e6 && Math.abs(v) >= 1e-3) return six(v);
  const [m, e] = v.toExponential(5).split('e');
  return `${Number(m)}e${Number(e)}`;
};

describe('the report page in Chromium', () => {
  test('opens from file://, draws both charts, shows the right summary and logs no errors', async () => {
    const dir = tmp();
    await simulate(join(dir, 'none.jsonl'), { steps: 300, nanSteps: [120] });
    const clipStats = await simulate(join(dir, 'clip.jsonl'), { steps: 300, maxNorm: 1, nanSteps: [120], seed: 2 });
    const out = join(artifacts, 'report.html');
    const result: ReportResult = await writeReport([join(dir, 'none.jsonl'), join(dir, 'clip.jsonl')], out, {
      title: 'no clipping vs clipping',
    });
    const { page, errors } = await openPage(pathToFileURL(out).href);
    await page.waitForSelector('#loss-chart canvas');
    await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });

    expect(await page.$$('.chart canvas')).toHaveLength(2); // gradient norm and loss
    const canvases = await colouredPixels(page, [BLUE, RED]);
    expect(canvases).toHaveLength(2);
    for (const c of canvases) {
      expect(c.width).toBeGreaterThan(400);
      expect(c.drawn).toBeGreaterThan(2000);
      expect(c.counts[0]).toBeGreaterThan(300); // run "none" drew its lines
      expect(c.counts[1]).toBeGreaterThan(300); // run "clip" too
    }
    expect(await page.textContent('.u-title')).toBe('Gradient norm per step (log scale)');
    // Both log axes are labelled, in order: norms lie around 0.2…20 (so 1, 2 and 5 times each decade),
    // losses around 0.005…2.
    const [normLabels, lossLabels] = await yLabels(page);
    expect(normLabels).toEqual(expect.arrayContaining(['0.5', '1', '2', '5', '10']));
    expect(lossLabels).toEqual(expect.arrayContaining(['0.01', '0.1', '1']));
    for (const labels of [normLabels!, lossLabels!]) expect(labels.map(Number)).toEqual(labels.map(Number).sort((a, b) => a - b));
    // One legend entry per run, in the table's order and colours.
    expect(await page.$$eval('#legend button.run', (bs) => bs.map((b) => b.getAttribute('data-run')))).toEqual(['none', 'clip']);

    const rows = await table(page);
    const clip = result.runs.find((r) => r.run === 'clip')!;
    const clipped = clipStats.filter((s) => s.clipped).length;
    expect(clip.clipped).toBe(clipped);
    expect(rows['clip']).toEqual({
      run: 'clip',
      steps: '300',
      clipped: `${((100 * clipped) / 300).toFixed(1)}% (${clipped})`,
      skipped: '1',
      maxNorm: six(Math.max(...clipStats.filter((s) => Number.isFinite(s.normBefore)).map((s) => s.normBefore))),
      finalLoss: six(clipStats[299]!.loss!),
      spikes: `${clip.lossSpikes} / ${clip.normSpikes}`,
      firstNonFiniteStep: '120',
      nonFinite: 'first: norm NaN · norms: 1 NaN', // the NaN gradient at step 120, named as such
      layers: '—',
      files: join(dir, 'clip.jsonl'),
    });
    expect(clip.normSpikes).toBeGreaterThan(3); // the simulated gradients jump 20-fold every 37 steps
    expect(rows['none']).toMatchObject({ steps: '300', clipped: '0.0% (0)', skipped: '1', firstNonFiniteStep: '120' });
    expect(await page.isVisible('#downsampled')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('stays legible with an exploding run and a run clipped on every step', async () => {
    const dir = tmp();
    const exploding: string[] = [];
    const clipped: string[] = [];
    for (let step = 0; step < 300; step++) {
      // The norm grows tenfold every 5 steps to 3e37, then is NaN (null in the log) for good.
      const norm = step <= 187 ? 3 * 10 ** (step / 5) : null;
      exploding.push(
        JSON.stringify({
          run: 'exploding',
          step,
          normBefore: norm,
          normAfter: norm,
          clipped: false,
          skipped: false,
          loss: norm === null ? null : Math.sqrt(norm),
        }),
      );
      clipped.push(
        JSON.stringify({
          run: 'clipped',
          step,
          normBefore: 5 + Math.sin(step / 7),
          normAfter: 1,
          clipped: true,
          skipped: false,
          threshold: 1,
          loss: 4 / (1 + step / 30),
        }),
      );
    }
    writeFileSync(join(dir, 'exploding.jsonl'), `${exploding.join('\n')}\n`);
    writeFileSync(join(dir, 'clipped.jsonl'), `${clipped.join('\n')}\n`);
    const out = join(artifacts, 'report-exploding.html');
    await writeReport([join(dir, 'exploding.jsonl'), join(dir, 'clipped.jsonl')], out, { title: 'exploding vs clipped' });
    const { page, errors } = await openPage(pathToFileURL(out).href);
    await page.waitForSelector('#loss-chart canvas');
    await page.screenshot({ path: join(artifacts, 'report-exploding.png'), fullPage: true });

    // The table rounds every figure alike: 6 significant digits, exponent form for a huge norm.
    const rows = await table(page);
    expect(rows['exploding']).toMatchObject({ steps: '300', maxNorm: '7.53566e37', finalLoss: 'non-finite', firstNonFiniteStep: '188' });
    // This log is in the older format (null for every non-finite number): the page says the kind is not known.
    expect(rows['exploding']!['nonFinite']).toBe(
      'first: norm non-finite · norms: 112 NaN or ±Infinity (older log) · losses: 112 NaN or ±Infinity (older log)',
    );
    expect(rows['clipped']).toMatchObject({
      clipped: '100.0% (300)',
      maxNorm: six(Math.max(...Array.from({ length: 300 }, (_, step) => 5 + Math.sin(step / 7)))),
    });

    // The norm axis is labelled in whole decades, up to the 1e30s, in order.
    const [normLabels] = await yLabels(page);
    expect(normLabels!.length).toBeGreaterThanOrEqual(5);
    const values = normLabels!.map(Number);
    for (const v of values) expect(Math.log10(v)).toBe(Math.round(Math.log10(v)));
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(Math.max(...values)).toBeGreaterThanOrEqual(1e30);
    expect(normLabels).toContain('1');
    // …and the labels are really drawn: dark text pixels in the column left of the plot.
    const ink = await page.evaluate(() => {
      const u = (
        window as unknown as { gradpipeCharts: { ctx: CanvasRenderingContext2D; bbox: { left: number; top: number; height: number } }[] }
      ).gradpipeCharts[0]!;
      const px = window.devicePixelRatio;
      const copy = document.createElement('canvas'); // a copy, as in colouredPixels
      copy.width = u.ctx.canvas.width;
      copy.height = u.ctx.canvas.height;
      copy.getContext('2d')!.drawImage(u.ctx.canvas, 0, 0);
      const { data } = copy.getContext('2d')!.getImageData(u.bbox.left - 56 * px, u.bbox.top, 50 * px, u.bbox.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && data[i]! < 120 && data[i + 1]! < 120 && data[i + 2]! < 120) n++;
      return n;
    });
    expect(ink).toBeGreaterThan(200);

    // Markers stay out of the plot: clipped and non-finite steps are bars in the strip above it, and the lines
    // of both runs remain visible.
    const canvases = await colouredPixels(page, [BLUE, RED, AMBER, DARK_RED]);
    for (const c of canvases) {
      expect(c.counts[2]).toBe(0); // no amber in the plot area
      expect(c.counts[3]).toBe(0); // no dark red either
      expect(c.counts[1]).toBeGreaterThan(300); // the clipped run's line
      expect(c.counts[0]).toBeGreaterThan(50); // the exploding run's line, until it goes NaN
      expect(c.strip[3]).toBeGreaterThan(300); // its non-finite steps, in the strip
    }
    expect(canvases[0]!.strip[2]).toBeGreaterThan(300); // every step clipped: an amber bar in the norm chart's strip
    expect(canvases[1]!.strip[2]).toBe(0); // the loss chart marks only non-finite losses

    // One legend entry per run; clicking one hides all its series on both charts and the y axis rescales.
    expect(await page.$$eval('#legend button.run', (bs) => bs.map((b) => b.textContent))).toEqual(['exploding', 'clipped']);
    const shown = () =>
      page.evaluate(() =>
        (window as unknown as { gradpipeCharts: { series: { label?: string; show: boolean }[] }[] }).gradpipeCharts.map((u) =>
          u.series
            .slice(1)
            .filter((s) => s.show)
            .map((s) => s.label),
        ),
      );
    await page.click('#legend button[data-run="exploding"]');
    expect(await shown()).toEqual([['clipped · before', 'clipped · after', 'clipped · threshold'], ['clipped · loss']]);
    expect(await page.getAttribute('#legend button[data-run="exploding"]', 'aria-pressed')).toBe('false');
    const hiddenPixels = await colouredPixels(page, [BLUE, RED]);
    for (const c of hiddenPixels) {
      expect(c.counts[0]).toBe(0);
      expect(c.counts[1]).toBeGreaterThan(300);
    }
    expect(Math.max(...(await yLabels(page))[0]!.map(Number))).toBeLessThan(100);
    await page.click('#legend button[data-run="exploding"]');
    expect((await shown())[0]).toHaveLength(6);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('a long log is downsampled, says so, and still draws', async () => {
    const dir = tmp();
    const path = join(dir, 'long.jsonl');
    const lines: string[] = [];
    for (let step = 0; step < 200_000; step++) {
      const norm = step === 150_000 ? Number.NaN : step % 10_007 === 0 ? 500 : 1 + Math.sin(step / 5000);
      lines.push(
        JSON.stringify({
          run: 'long',
          step,
          normBefore: norm,
          normAfter: Math.min(norm, 1.5),
          clipped: norm > 1.5,
          skipped: false,
          threshold: 1.5,
          loss: 1 / (1 + step / 1000),
        }),
      );
    }
    writeFileSync(path, `${lines.join('\n')}\n`);
    const out = join(artifacts, 'report-long.html');
    const result = await writeReport([path], out, { title: 'long run' });
    expect(result.bucketSize).toBe(64); // the smallest power of two with 200000 / size <= 4000
    const { page, errors } = await openPage(pathToFileURL(out).href);
    await page.waitForSelector('#loss-chart canvas');
    await page.screenshot({ path: join(artifacts, 'report-long.png'), fullPage: true });
    expect(await page.textContent('#downsampled')).toContain('downsampled to buckets of 64 steps (longest run: 200000 steps)');
    const canvases = await colouredPixels(page, [BLUE]);
    for (const c of canvases) expect(c.counts[0]).toBeGreaterThan(300);
    expect((await table(page))['long']).toMatchObject({ steps: '200000', maxNorm: '500', firstNonFiniteStep: '150000' });
    expect(errors).toEqual([]);
    await page.close();
  });

  test('per-layer health: the heatmap, lines of the picked layers and the health table', async () => {
    const dir = tmp();
    // Four layers over 600 steps: two healthy, one fading to 1e-11 (vanishing), one growing 1e8-fold to a NaN
    // at step 590 (exploding); a loss with a jump at step 400 (a spike).
    const lines: string[] = [];
    for (let step = 0; step < 600; step++) {
      const t = step / 599;
      const wobble = 1 + 0.2 * Math.sin(step / 3);
      const tensorNorms = {
        'embedding/weight': 0.8 * wobble,
        'lstm/kernel': 10 ** (-2 - 9 * t) * wobble,
        'lstm/recurrent_kernel': step === 590 ? 'NaN' : 10 ** (-1 + 8 * t) * wobble,
        'dense/kernel': 0.3 * wobble,
      };
      const loss = (2 - t) * wobble * (step === 400 ? 5 : 1);
      lines.push(
        JSON.stringify({
          run: 'deep',
          step,
          normBefore: 1 + t,
          normAfter: 1,
          clipped: true,
          skipped: false,
          threshold: 1,
          loss,
          tensorNorms,
        }),
      );
    }
    writeFileSync(join(dir, 'deep.jsonl'), `${lines.join('\n')}\n`);
    await simulate(join(dir, 'plain.jsonl'), { steps: 600 }); // a run without per-tensor norms
    const out = join(artifacts, 'report-layers.html');
    const result = await writeReport([join(dir, 'deep.jsonl'), join(dir, 'plain.jsonl')], out, { title: 'per-layer health' });
    expect(result.runs[0]!.layers.map((l) => l.flag)).toEqual(['ok', 'vanishing', 'exploding', 'ok']);
    expect(result.runs[0]!.lossSpikes).toBe(1);
    const { page, errors } = await openPage(pathToFileURL(out).href);
    await page.waitForSelector('#layer-lines canvas');
    await page.screenshot({ path: join(artifacts, 'report-layers.png'), fullPage: true });
    await (await page.$('#layer-section'))!.screenshot({ path: join(artifacts, 'report-layers-section.png') });

    // The health table: one row per layer with its figures and flag, flagged rows ticked to be drawn.
    const rows = await page.$$eval('table.layers tbody tr', (trs) =>
      trs.map((tr) =>
        Object.fromEntries(
          [...tr.querySelectorAll('td')].map((td) => [
            td.getAttribute('data-field'),
            td.querySelector('input') ? String((td.querySelector('input') as HTMLInputElement).checked) : td.textContent,
          ]),
        ),
      ),
    );
    expect(rows.map((r) => [r['name'], r['flag'], r['line']])).toEqual([
      ['embedding/weight', 'ok', 'false'],
      ['lstm/kernel', 'vanishing', 'true'],
      ['lstm/recurrent_kernel', 'exploding', 'true'],
      ['dense/kernel', 'ok', 'false'],
    ]);
    expect(rows[2]).toMatchObject({
      last: pageFigure(10 ** 7 * (1 + 0.2 * Math.sin(599 / 3))),
      reason: 'non-finite norm at 1 step, first at step 590',
    });
    expect(rows[1]!['reason']).toMatch(/^recent median .* < 1e-8$/);

    // The heatmap draws its cells in viridis colours (dark purple for the faint layer, yellow for the strong one)
    // and the non-finite cell in its own colour; the lines chart draws exactly the two ticked layers.
    const heat = await page.evaluate(() => {
      const [u] = (
        window as unknown as {
          gradpipeLayerCharts: { ctx: CanvasRenderingContext2D; bbox: { left: number; top: number; width: number; height: number } }[];
        }
      ).gradpipeLayerCharts;
      const { left, top, width, height } = u!.bbox;
      const copy = document.createElement('canvas');
      copy.width = u!.ctx.canvas.width;
      copy.height = u!.ctx.canvas.height;
      copy.getContext('2d')!.drawImage(u!.ctx.canvas, 0, 0);
      const { data } = copy.getContext('2d')!.getImageData(left, top, width, height);
      let purple = 0;
      let yellow = 0;
      let pink = 0;
      let drawn = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! < 200) continue;
        drawn++;
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (r < 90 && g < 40 && b > 70) purple++;
        if (r > 200 && g > 200 && b < 80) yellow++;
        if (r > 230 && g < 60 && b > 70 && b < 120) pink++;
      }
      return { drawn, purple, yellow, pink, cells: width * height };
    });
    expect(heat.drawn).toBeGreaterThan(heat.cells * 0.9); // every layer logged every step: no gaps
    expect(heat.purple).toBeGreaterThan(500);
    expect(heat.yellow).toBeGreaterThan(500);
    expect(heat.pink).toBeGreaterThan(5);
    const shownLines = () =>
      page.evaluate(() =>
        (
          window as unknown as { gradpipeLayerCharts: { series: { label?: string; show: boolean }[] }[] }
        ).gradpipeLayerCharts[1]!.series.slice(1)
          .filter((s) => s.show)
          .map((s) => s.label),
      );
    expect(await shownLines()).toEqual(['lstm/kernel', 'lstm/recurrent_kernel']);
    // Ticking a row in the table draws its line too; clicking the heatmap row of a drawn layer removes it.
    await page.check('table.layers tr[data-layer="dense/kernel"] input');
    expect(await shownLines()).toEqual(['lstm/kernel', 'lstm/recurrent_kernel', 'dense/kernel']);
    const box = (await page.locator('#layer-heatmap .u-over').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height * (3.5 / 4)); // the bottom row: dense/kernel
    expect(await shownLines()).toEqual(['lstm/kernel', 'lstm/recurrent_kernel']);
    expect(await page.isChecked('table.layers tr[data-layer="dense/kernel"] input')).toBe(false);
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * (1.5 / 4));
    expect(await page.textContent('#layer-readout')).toMatch(/^lstm\/kernel, step \d+: norm [\d.e-]+ · click to remove its line$/);

    // The summary table says which non-finite value, counts the spikes and the flagged layers.
    const summary = await table(page);
    expect(summary['deep']).toMatchObject({ spikes: '1 / 0', layers: '4 (2 flagged)', nonFinite: '—' });
    expect(summary['plain']).toMatchObject({ layers: '—' });
    // The spike is a tick in the loss chart's strip.
    const strips = await colouredPixels(page, [[0x11, 0x18, 0x27]]);
    expect(strips[1]!.strip[0]).toBeGreaterThan(5);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the live page updates as lines are appended', async () => {
    const dir = tmp();
    const path = join(dir, 'live.jsonl');
    const line = (run: string, step: number) =>
      `${JSON.stringify({ run, step, normBefore: 2 + Math.sin(step), normAfter: 1, clipped: true, skipped: false, threshold: 1, loss: 3 / (step + 1) })}\n`;
    writeFileSync(path, Array.from({ length: 10 }, (_, i) => line('live', i)).join(''));
    let server: LiveServer | undefined;
    try {
      server = await serve([dir], { host: '127.0.0.1', port: 0, pollMs: 200, title: 'live test' });
      const { page, errors } = await openPage(server.url);
      await page.waitForSelector('#live.live:not(.off)');
      await expect.poll(async () => (await table(page))['live']?.['steps'], { timeout: 10_000 }).toBe('10');
      // Zoom into part of the x axis by dragging on the norm chart, as a reader would.
      const box = (await page.locator('#norm-chart .u-over').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const xRange = (chart = 0) =>
        page.evaluate((chart) => {
          const u = (window as unknown as { gradpipeCharts: { scales: { x: { min: number; max: number } } }[] }).gradpipeCharts[chart]!;
          return [u.scales.x.min, u.scales.x.max];
        }, chart);
      const zoomed = await xRange();
      expect(zoomed[0]).toBeGreaterThan(1);
      expect(zoomed[1]).toBeLessThan(7);
      expect(await xRange(1)).toEqual(zoomed); // the loss chart follows
      appendFileSync(path, Array.from({ length: 15 }, (_, i) => line('live', 10 + i)).join('') + line('live', 25).slice(0, 30));
      await expect.poll(async () => (await table(page))['live']?.['steps'], { timeout: 10_000 }).toBe('25');
      expect(await xRange()).toEqual(zoomed); // the update kept the reader's zoom
      expect(await xRange(1)).toEqual(zoomed);
      await page.dblclick('#norm-chart .u-over'); // back to all steps
      expect((await xRange())[1]).toBe(24); // steps 0…24: the half-written step 25 is not shown
      writeFileSync(join(dir, 'second.jsonl'), line('second', 0) + line('second', 1));
      await expect.poll(async () => (await table(page))['second']?.['steps'], { timeout: 10_000 }).toBe('2');
      await page.waitForSelector('#loss-chart canvas');
      const canvases = await colouredPixels(page, [BLUE, RED]);
      expect(canvases).toHaveLength(2);
      expect(canvases[0]!.counts[0]).toBeGreaterThan(100);
      expect(canvases[0]!.counts[1]).toBeGreaterThan(20);
      await page.screenshot({ path: join(artifacts, 'live.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await server?.close();
    }
  });

  test('data that is not chart data is refused with a message on the page, never drawn from', async () => {
    const records = [0.5, 3, 2].map((v, step) => ({ run: 'r', step, normBefore: v, normAfter: v, loss: v }));
    const data = JSON.parse(stringifyKeepingNonFinite(buildChartData([{ run: 'r', files: ['r.jsonl'], records }]))) as {
      runs: { norms: { after: number[] }; summary: Record<string, unknown> }[];
    };
    data.runs[0]!.norms.after.pop();
    data.runs[0]!.summary['steps'] = 'three';
    const out = join(artifacts, 'report-malformed.html');
    writeFileSync(out, renderPageJson(JSON.stringify(data), 'malformed', false));
    const { page, errors } = await openPage(pathToFileURL(out).href);
    await page.waitForSelector('#problem:not([hidden])');
    await page.screenshot({ path: join(artifacts, 'report-malformed.png'), fullPage: true });
    expect((await page.textContent('#problem'))!.split('\n')).toEqual([
      'This page cannot draw its data: it is not the chart data of @gradpipe/monitor.',
      'runs[0].summary.steps: expected a finite number, got "three"',
      'runs[0].norms.after: has 2 entries for 3 steps',
    ]);
    expect(await page.isVisible('#charts')).toBe(false);
    expect(await page.isVisible('#layer-section')).toBe(false);
    expect(await page.$$('canvas')).toHaveLength(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
