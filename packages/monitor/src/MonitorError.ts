/**
 * The error every @gradpipe/monitor function throws for bad input or a bad log file. Like core's
 * `GradpipeError`, its message starts with the public function that refused; for log files it also names the
 * file and the 1-based line number, so the CLI can print it as is.
 *
 * @example
 * ```ts
 * import { readJsonl, MonitorError } from '@gradpipe/monitor';
 * try {
 *   await readJsonl('runs/broken.jsonl');
 * } catch (e) {
 *   if (e instanceof MonitorError) console.error(e.message); // 'readJsonl: runs/broken.jsonl line 3: malformed JSON …'
 * }
 * ```
 */
export class MonitorError extends Error {
  /** The public function that raised the error, e.g. `'readJsonl'`. */
  readonly fn: string;
  /** The log file at fault, when there is one. */
  readonly file: string | undefined;
  /** The 1-based line of `file` at fault, when there is one. */
  readonly line: number | undefined;

  constructor(fn: string, message: string, where: { file?: string; line?: number } = {}) {
    const prefix = where.file === undefined ? '' : where.line === undefined ? `${where.file}: ` : `${where.file} line ${where.line}: `;
    super(`${fn}: ${prefix}${message}`);
    this.name = 'MonitorError';
    this.fn = fn;
    this.file = where.file;
    this.line = where.line;
  }
}

/** Renders a value the way an error message should show it: short, and unambiguous about its type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  return typeof value === 'object' ? 'object' : typeof value;
}
