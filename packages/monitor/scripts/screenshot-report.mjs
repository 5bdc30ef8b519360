#!/usr/bin/env node
import { resolve } from 'node:path';
// Opens a report in Debian's headless Chromium and saves screenshots: the whole page and, when there is one, its
// per-layer section. Usage: node packages/monitor/scripts/screenshot-report.mjs <report.html> [out-prefix]
// Writes <out-prefix>.png and <out-prefix>-layers.png (default prefix: the report's path without .html).
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const report = resolve(process.argv[2] ?? 'report.html');
const prefix = process.argv[3] ?? report.replace(/\.html$/, '');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(pathToFileURL(report).href);
  await page.waitForSelector('#norm-chart canvas');
  await page.screenshot({ path: `${prefix}.png`, fullPage: true });
  if (await page.isVisible('#layer-body')) {
    await (await page.$('#layer-section')).screenshot({ path: `${prefix}-layers.png` });
    const rows = await page.$$eval('table.layers tbody tr', (trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')]
          .slice(1)
          .map((td) => td.textContent)
          .join(' | '),
      ),
    );
    console.log(`layer table of ${await page.inputValue('#layer-run')}:\n  ${rows.join('\n  ')}`);
  }
  console.log(
    `screenshots: ${prefix}.png${(await page.isVisible('#layer-body')) ? `, ${prefix}-layers.png` : ''}; page errors: ${errors.length ? errors.join('; ') : 'none'}`,
  );
} finally {
  await browser.close();
}
