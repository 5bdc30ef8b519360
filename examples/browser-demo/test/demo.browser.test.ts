/// <reference lib="dom" />
// The browser demo, clicked through in Chromium as a person would: train without clipping (NaN), train with clipping
// by global norm (the loss falls), the charts fill in, and the downloaded log reads with @gradpipe/monitor.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonl } from '@gradpipe/monitor';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, repoRoot, startVite } from '../../../tests/support/chromium.js';

const root = fileURLToPath(new URL('../', import.meta.url));
// Screenshots for a person to look at (gitignored).
const artifacts = join(repoRoot, 'test-artifacts/browser-demo');
let server: ViteDevServer;
let browser: Browser;
let page: Page;
let errors: string[];
const downloads = mkdtempSync(join(tmpdir(), 'gradpipe-demo-'));

type Demo = {
  backend: string;
  steps: number;
  epochLosses: number[];
  running: boolean;
  charts: { data: (number | null)[][]; series: { label?: string }[] }[];
};
const demo = () =>
  page.evaluate(() => {
    const d = (window as unknown as { demo: Demo }).demo;
    return {
      backend: d.backend,
      steps: d.steps,
      epochLosses: d.epochLosses,
      running: d.running,
      charts: d.charts.map((u) => ({
        points: u.data[0]!.length,
        labels: u.series.slice(1).map((s) => s.label),
        drawn: u.data.slice(1).map((s) => s.filter((v) => v !== null).length),
      })),
    };
  });

/** Picks a clipping, sets the epochs, clicks train and waits until the run is over. */
async function trainWith(clipping: string, epochs: number): Promise<void> {
  await page.check(`input[name="clipping"][value="${clipping}"]`);
  await page.fill('#epochs', String(epochs));
  await page.click('#train');
  await page.waitForFunction(
    () => !(window as unknown as { demo: Demo }).demo.running && !(document.getElementById('train') as HTMLButtonElement).disabled,
    undefined,
    { timeout: 240_000, polling: 250 },
  );
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  ({ server } = await startVite(root, { configFile: join(root, 'vite.config.ts') }));
  browser = await launchChromium();
  ({ page, errors } = await openPage(browser, server.resolvedUrls!.local[0]!));
  await page
    .waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled, undefined, { timeout: 120_000 })
    .catch((e: Error) => {
      throw new Error(`the demo did not get ready: ${e.message}\n${errors.join('\n')}`);
    });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(downloads, { recursive: true, force: true });
});

describe('examples/browser-demo in Chromium', () => {
  it('trains on the best backend there is, and says which', async () => {
    // With Chromium's WebGPU on SwiftShader, that is webgpu; the page shows it.
    expect(await page.textContent('#backend')).toBe('webgpu');
    expect((await demo()).backend).toBe('webgpu');
  });

  it('without clipping the loss turns NaN, and the page says so', async () => {
    await trainWith('off', 2);
    await page.screenshot({ path: join(artifacts, 'off.png'), fullPage: true });
    const d = await demo();
    expect(d.steps).toBe(16); // 1000 samples / batch 128 = 8 steps per epoch
    expect(d.epochLosses.some((l) => !Number.isFinite(l))).toBe(true);
    expect(await page.textContent('#loss')).toBe('NaN');
    expect(await page.getAttribute('#loss', 'class')).toContain('nan');
    expect(await page.textContent('#status')).toMatch(/^diverged: the loss is NaN from epoch 1 on/);
  });

  it('clipping by global norm trains: the loss falls, the charts fill in live, and the log downloads for gradpipe report', async () => {
    await page.check('input[name="clipping"][value="globalNorm"]');
    await page.fill('#epochs', '4');
    await page.click('#train');
    // Live: the charts have points while the run is still going.
    await page.waitForFunction(() => (window as unknown as { demo: Demo }).demo.steps >= 3, undefined, { timeout: 120_000, polling: 100 });
    const during = await demo();
    expect(during.running).toBe(true);
    expect(during.charts[0]!.points).toBeGreaterThanOrEqual(3);
    await page.waitForFunction(() => !(window as unknown as { demo: Demo }).demo.running, undefined, { timeout: 240_000, polling: 250 });
    await page.screenshot({ path: join(artifacts, 'global-norm.png'), fullPage: true });

    const d = await demo();
    expect(d.steps).toBe(32);
    expect(d.epochLosses.every(Number.isFinite)).toBe(true);
    expect(d.epochLosses.at(-1)!).toBeLessThan(d.epochLosses[0]!);
    expect(await page.textContent('#status')).toMatch(/^finished: loss/);
    // Three charts: norms before/after and the threshold, the loss, one line per layer; every step drawn.
    expect(d.charts.map((c) => c.points)).toEqual([32, 32, 32]);
    expect(d.charts[0]!.labels).toEqual(['threshold', '‖g‖ after', '‖g‖ before']);
    expect(d.charts[0]!.drawn).toEqual([32, 32, 32]);
    expect(d.charts[2]!.labels).toEqual(['hidden/kernel', 'hidden/bias', 'out/kernel', 'out/bias']);
    expect(Number(await page.textContent('#norm-after'))).toBeLessThanOrEqual(1);

    const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(file.suggestedFilename()).toBe('globalNorm-webgpu.jsonl');
    const path = join(downloads, file.suggestedFilename());
    await file.saveAs(path);
    const records = await readJsonl(path);
    expect(records.map((r) => r.step)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(records.every((r) => r.run === 'globalNorm-webgpu' && r.threshold === 1 && r.skipped === false)).toBe(true);
    expect(records.filter((r) => r.clipped).length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.normAfter as number).toBeLessThanOrEqual(1);
      expect(Object.keys(r.tensorNorms ?? {})).toHaveLength(4);
      expect(Number.isFinite(r.loss)).toBe(true);
    }
    expect(errors).toEqual([]);
  });
});
