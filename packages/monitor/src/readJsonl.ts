import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { JsonlParser, type TruncatedLine } from './JsonlParser.js';
import { MonitorError, describeValue } from './MonitorError.js';
import { RecordCollector } from './RecordCollector.js';
import type { StepRecord } from './StepRecord.js';

/** Options of {@link readJsonl}. */
export interface ReadJsonlOptions {
  /** Told about a truncated last line (a writer that crashed mid-line), which is left out. Default: ignore. */
  onTruncated?: (file: string, line: TruncatedLine) => void;
}

/**
 * Reads a gradpipe JSONL log: one record per step, with note lines (e.g. a loss logged later) merged in, in
 * file order. Lines without a `run` get the file name without `.jsonl`.
 *
 * A truncated last line is left out (and handed to `onTruncated`); a malformed line anywhere else throws a
 * {@link MonitorError} naming the file and the line number.
 *
 * @example
 * ```ts
 * import { readJsonl } from '@gradpipe/monitor';
 * const records = await readJsonl('runs/clip.jsonl');
 * records.filter((r) => r.clipped).length; // how many steps were clipped
 * ```
 */
export async function readJsonl(path: string, options: ReadJsonlOptions = {}): Promise<StepRecord[]> {
  const fn = 'readJsonl';
  if (typeof path !== 'string' || path === '') throw new MonitorError(fn, `path must be a non-empty string, got ${describeValue(path)}`);
  const parser = new JsonlParser(path, fn, basename(path, extname(path)));
  const collector = new RecordCollector();
  try {
    for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      parser.push(chunk as string, (record) => collector.add(record));
    }
  } catch (error) {
    if (error instanceof MonitorError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MonitorError(fn, 'no such file', { file: path });
    if (code === 'EISDIR') throw new MonitorError(fn, 'is a directory, not a .jsonl file', { file: path });
    throw new MonitorError(fn, `cannot read: ${(error as Error).message}`, { file: path });
  }
  const { record, truncated } = parser.end();
  if (record !== undefined) collector.add(record);
  if (truncated !== undefined) options.onTruncated?.(path, truncated);
  return collector.records;
}
