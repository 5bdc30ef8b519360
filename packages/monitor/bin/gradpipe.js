#!/usr/bin/env node
// The `gradpipe` command. This file is committed, not built: npm links a package's bins when it installs it,
// which in this repository happens before the root `prepare` script has built dist/. A bin pointing into dist/
// would not be linked, and `npx gradpipe` would fail right after `npm install`. So this file exists from the
// start and loads the built command only when it runs.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('gradpipe: @gradpipe/monitor is not built yet (dist/ is missing): run `npm run build` at the repository root\n');
  process.exitCode = 1;
} else {
  await import(built.href);
}
