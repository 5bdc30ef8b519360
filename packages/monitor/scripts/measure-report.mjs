#!/usr/bin/env node
// Measures the report on big logs: writes N-step logs through the real recorder (events from a stand-in source,
// no training), then times writeReport. Needs the built package (npm run build).
// Usage: node packages/monitor/scripts/measure-report.mjs [steps=1000000] [outDir=/tmp/gradpipe-measure]
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { recordJsonl, writeReport } from '../dist/index.js';

const steps = Number(process.argv[2] ?? 1_000_000);
const dir = process.argv[3] ?? '/tmp/gradpipe-measure';

function writeLog(path, run, clip) {
  const observers = [];
  const events$ = { subscribe: (o) => (observers.push(o), { unsubscribe() {} }) };
  const recorder = recordJsonl(events$, path, { run, extra: { lr: 0.01 } });
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let step = 0; step < steps; step++) {
    const spike = step % 9973 === 17 ? 50 + 100 * random() : 1;
    const norm = step === Math.floor(steps * 0.654321) ? Number.NaN : (0.5 + random()) * spike * (1 + step / steps);
    const clipped = clip && norm > 1.2;
    const event = {
      step,
      normBefore: norm,
      normAfter: clipped ? 1.2 : norm,
      clipped,
      skipped: Number.isNaN(norm),
      threshold: clip ? 1.2 : undefined,
      loss: 2 * Math.exp(-step / (steps / 5)) + 0.05 * random(),
      nonFinite: Number.isNaN(norm) ? ['w'] : [],
      transforms: [],
    };
    for (const o of observers) o.next(event);
  }
  return recorder.close();
}

const logs = [join(dir, 'none.jsonl'), join(dir, 'clip.jsonl')];
let t = performance.now();
await writeLog(logs[0], 'none', false);
await writeLog(logs[1], 'clip', true);
console.log(
  `recorded 2 x ${steps} steps in ${((performance.now() - t) / 1000).toFixed(2)} s ` +
    `(${logs.map((p) => (statSync(p).size / 1e6).toFixed(0)).join(' + ')} MB of JSONL)`,
);
for (const paths of [[logs[1]], logs]) {
  t = performance.now();
  const result = await writeReport(paths, join(dir, `report-${paths.length}.html`));
  console.log(
    `report of ${paths.length} run(s): ${((performance.now() - t) / 1000).toFixed(2)} s, ` +
      `${(result.bytes / 1024).toFixed(0)} kB, buckets of ${result.bucketSize} steps -> ${result.path}`,
  );
}
