import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MonitorError } from './MonitorError.js';

/**
 * Refuses an output path that would destroy an input or cannot be written: one of the inputs (also through
 * a link: same device and inode), a directory, or a path under a regular file. Checked before any log is read,
 * so a mistake costs no time.
 */
export function checkOutput(fn: string, out: string, inputs: readonly string[]): void {
  const target = resolve(out);
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(target);
  } catch {
    stats = undefined;
  }
  if (stats?.isDirectory())
    throw new MonitorError(
      fn,
      `out ${JSON.stringify(out)} is a directory; give a file name, e.g. ${JSON.stringify(join(out, 'report.html'))}`,
    );
  for (const input of inputs) {
    let same = resolve(input) === target;
    if (!same && stats !== undefined) {
      try {
        const s = statSync(input);
        same = s.dev === stats.dev && s.ino === stats.ino;
      } catch {
        // a missing input is reported when it is read
      }
    }
    if (same)
      throw new MonitorError(
        fn,
        `out ${JSON.stringify(out)} is one of the input logs (${JSON.stringify(input)}); writing the report there would destroy it`,
      );
  }
  // The nearest existing ancestor must be a directory, or the report cannot be created under it.
  for (let dir = dirname(target); ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory())
        throw new MonitorError(fn, `out ${JSON.stringify(out)} lies under ${JSON.stringify(dir)}, which is a file, not a directory`);
      break;
    }
    if (dirname(dir) === dir) break;
  }
}

/**
 * Writes `text` to `out` through a temporary file in the same directory and a rename, so `out` is never left
 * half written and a reader sees either the old file or the new one. File-system errors become MonitorErrors.
 */
export function writeFileAtomically(fn: string, out: string, text: string): void {
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(temp, text);
    renameSync(temp, out);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new MonitorError(fn, `cannot write ${JSON.stringify(out)}: ${(error as Error).message}`);
  }
}

/** The canonical path of an input, for noticing one file given twice (also through a link). */
export function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
