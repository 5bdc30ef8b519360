import type { TruncatedLine } from './JsonlParser.js';
import { describeValue, MonitorError } from './MonitorError.js';
import { RecordCollector } from './RecordCollector.js';
import type { StepRecord } from './StepRecord.js';
import { forEachLine } from './streamLog.js';
import { refuseUnknownKeys } from './summarizeRun.js';

/** Options of {@link readJsonl}. */
export interface ReadJsonlOptions {
  /**
   * Told about each line a crashed writer left unfinished, which is left out: a truncated last line, or a
   * `{"torn": …}` line in which a resumed recorder set one aside. Default: ignore.
   */
  onTruncated?: (file: string, line: TruncatedLine) => void;
}

/**
 * Reads a gradpipe JSONL log: one record per step, with note lines (e.g. a loss logged later) merged in, in
 * file order. Lines without a `run` get the file name without `.jsonl`. Non-finite numbers come back as numbers:
 * `"NaN"`, `"Infinity"` and `"-Infinity"` in the log are `NaN`, `Infinity` and `-Infinity`; an older log's
 * `null` stays `null`.
 *
 * Unfinished lines of a crashed writer are left out (and handed to `onTruncated`); a malformed line anywhere
 * else throws a {@link MonitorError} naming the file and the line number. This holds the whole log in memory;
 * `writeReport` streams instead.
 *
 * @example
 * ```ts
 * import { readJsonl } from '@gradpipe/monitor';
 * const records = await readJsonl('runs/clip.jsonl');
 * records.filter((r) => r.clipped).length; // how many steps were clipped
 * records.filter((r) => Number.isNaN(r.normBefore)).length; // how many had a NaN gradient norm
 * ```
 */
export async function readJsonl(path: string, options: ReadJsonlOptions = {}): Promise<StepRecord[]> {
  const fn = 'readJsonl';
  if (typeof path !== 'string' || path === '') throw new MonitorError(fn, `path must be a non-empty string, got ${describeValue(path)}`);
  refuseUnknownKeys(fn, options, ['onTruncated']);
  if (options.onTruncated !== undefined && typeof options.onTruncated !== 'function') {
    throw new MonitorError(fn, `onTruncated must be a function, got ${describeValue(options.onTruncated)}`);
  }
  const collector = new RecordCollector();
  await forEachLine(
    path,
    fn,
    (record) => collector.add(record),
    (t) => options.onTruncated?.(path, t),
  );
  return collector.records;
}
