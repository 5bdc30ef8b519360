import { describeValue, MonitorError } from './MonitorError.js';
import { decodeNumber, isNonFiniteText } from './nonFinite.js';
import type { StepRecord } from './StepRecord.js';

/**
 * A line a crashed writer left unfinished: the last line of a file, without its newline, that does not parse
 * ({@link JsonlParser.end}), or a `{"torn": …}` line in which a resumed recorder set such a line aside.
 */
export interface TruncatedLine {
  /** The 1-based line number. */
  line: number;
  /** The characters of the incomplete line. */
  text: string;
}

const NUMBER_FIELDS = ['normBefore', 'normAfter', 'threshold', 'loss'] as const;

/**
 * Turns the text of a gradpipe log, given in chunks as it is read or as training appends it, into line
 * objects. Lines are numbered from 1 so errors can point at them. A line is only parsed once its newline has
 * arrived; `end()` decides about what is left: a last line that parses is kept, one that doesn't is the
 * truncated tail of a crashed writer and is reported, not thrown.
 *
 * Records are returned as parsed: note lines are not merged into their steps (see {@link readJsonl}, which does).
 * Number fields come back as numbers: `"NaN"`, `"Infinity"` and `"-Infinity"` become NaN and ±Infinity.
 *
 * @example
 * ```ts
 * import { JsonlParser, type StepRecord } from '@gradpipe/monitor';
 * const parser = new JsonlParser('live.jsonl', 'follow', 'live');
 * const records: StepRecord[] = [];
 * parser.push('{"step":0,"normBefore":3,"normAfter":1,"clipped":true,"skipped":false}\n{"step":1,"norm', (r) => records.push(r));
 * records.length; // 1: the second line waits for the rest of its text
 * parser.push('Before":2,"normAfter":1,"clipped":true,"skipped":false}\n', (r) => records.push(r));
 * records[1]?.run; // 'live': lines without a run get the default
 * parser.end();    // {}: nothing left over
 * ```
 */
export class JsonlParser {
  private rest = '';
  private lineNumber = 0;

  /**
   * @param file The file name used in error messages.
   * @param fn The public function named in error messages.
   * @param defaultRun The run of lines that have none.
   */
  constructor(
    readonly file: string,
    private readonly fn: string,
    private readonly defaultRun: string,
  ) {}

  /**
   * Parses every complete line in `chunk` (plus what was left of the previous chunk), handing each record to
   * `onRecord` as it goes, so the lines before a bad one are kept. Throws on a bad line. A `{"torn": …}` line
   * (a crashed writer's unfinished line, set aside by a resumed recorder) is no record: it goes to `onTorn`.
   */
  push(chunk: string, onRecord: (record: StepRecord) => void, onTorn?: (line: TruncatedLine) => void): void {
    const text = this.rest + chunk;
    this.rest = '';
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.lineNumber++;
      const line = text.slice(start, end);
      start = end + 1;
      const record = this.parseLine(line);
      if (record === undefined) continue;
      if (isTorn(record)) onTorn?.({ line: this.lineNumber, text: record.torn });
      else onRecord(record);
    }
    this.rest = text.slice(start);
  }

  /** The number of the last line handed out or skipped. */
  get lines(): number {
    return this.lineNumber;
  }

  /** True when part of a line is waiting for its newline. */
  get pending(): boolean {
    return this.rest.trim() !== '';
  }

  /**
   * Handles the text after the last newline once the input is complete: returns it as a record when it is a
   * whole line that only lacks its newline, or reports it as truncated.
   */
  end(): {
    /** The last line, when it parsed although its newline never came. */
    record?: StepRecord;
    /** The last line, when it did not parse (a writer stopped mid-line) or was a `{"torn": …}` line. */
    truncated?: TruncatedLine;
  } {
    const text = this.rest;
    this.rest = '';
    if (text.trim() === '') return {};
    this.lineNumber++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { truncated: { line: this.lineNumber, text } };
    }
    const record = this.check(value);
    return isTorn(record) ? { truncated: { line: this.lineNumber, text: record.torn } } : { record };
  }

  private parseLine(line: string): StepRecord | { torn: string } | undefined {
    // Lines start with '{' unless blank or broken: only those pay for the trim.
    if (line.charCodeAt(0) !== 0x7b && line.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw this.error(`malformed JSON (${(error as Error).message}): ${describeValue(line)}`);
    }
    return this.check(value);
  }

  private check(value: unknown): StepRecord | { torn: string } {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.error(`expected a JSON object, got ${describeValue(value)}`);
    }
    const record = value as Record<string, unknown>;
    if (typeof record['torn'] === 'string' && record['step'] === undefined) return { torn: record['torn'] };
    const step = record['step'];
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw this.error(`"step" must be an integer >= 0, got ${describeValue(step)}`);
    }
    if (record['run'] === undefined) record['run'] = this.defaultRun;
    else if (typeof record['run'] !== 'string') throw this.error(`"run" must be a string, got ${describeValue(record['run'])}`);
    if (record['note'] !== true) {
      for (const key of ['normBefore', 'normAfter'] as const) {
        if (!isLoggedNumber(record[key])) {
          throw this.error(
            `a step line needs "${key}" as a number, "NaN", "Infinity", "-Infinity" or null, got ${describeValue(record[key])} (a note line has "note": true)`,
          );
        }
      }
      for (const key of ['clipped', 'skipped'] as const) {
        if (typeof record[key] !== 'boolean')
          throw this.error(`a step line needs "${key}" as a boolean, got ${describeValue(record[key])}`);
      }
    }
    for (const key of NUMBER_FIELDS) {
      const v = record[key];
      if (v === undefined) continue;
      if (!isLoggedNumber(v))
        throw this.error(`"${key}" must be a number, "NaN", "Infinity", "-Infinity" or null, got ${describeValue(v)}`);
      if (typeof v === 'string') record[key] = decodeNumber(v);
    }
    const norms = record['tensorNorms'];
    if (norms !== undefined) {
      if (typeof norms !== 'object' || norms === null || Array.isArray(norms))
        throw this.error(`"tensorNorms" must be an object, got ${describeValue(norms)}`);
      const byName = norms as Record<string, unknown>;
      for (const name in byName) {
        const v = byName[name];
        if (!isLoggedNumber(v))
          throw this.error(`"tensorNorms.${name}" must be a number, "NaN", "Infinity", "-Infinity" or null, got ${describeValue(v)}`);
        if (typeof v === 'string') byName[name] = decodeNumber(v);
      }
    }
    return record as StepRecord;
  }

  private error(message: string): MonitorError {
    return new MonitorError(this.fn, message, { file: this.file, line: this.lineNumber });
  }
}

function isLoggedNumber(v: unknown): v is number | null | 'NaN' | 'Infinity' | '-Infinity' {
  return typeof v === 'number' || v === null || isNonFiniteText(v);
}

function isTorn(record: StepRecord | { torn: string }): record is { torn: string } {
  return (record as { step?: unknown }).step === undefined;
}
