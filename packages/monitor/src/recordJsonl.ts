import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import type { StepEvent } from '@gradpipe/core';
import { flushOnExit, forgetOnExit } from './flushOnExit.js';
import { describeValue, MonitorError } from './MonitorError.js';
import { encodeNumber } from './nonFinite.js';
import { type JsonValue, type NoteLine, RESERVED_FIELDS, toStepLine } from './StepRecord.js';

/**
 * Anything with an rxjs-style `subscribe`, such as `pipe.events$` (an rxjs Observable). The monitor needs no
 * rxjs of its own.
 */
export interface StepEventSource {
  /**
   * Starts delivering events to `observer`: `next` for every step, then `complete` (the pipeline was closed)
   * or `error`, after which the recorder closes its file.
   */
  subscribe(observer: { next: (event: StepEvent) => void; error: (error: unknown) => void; complete: () => void }): {
    /** Stops the deliveries; the recorder calls it when it is closed first. */
    unsubscribe(): void;
  };
}

/** Options of {@link recordJsonl}. */
export interface RecordJsonlOptions {
  /** The run name written on every line. Default: the file name without `.jsonl`. */
  run?: string;
  /** Fields added to every step line, e.g. `{ lr: 0.07, seed: 1 }`. May not reuse a step line's field names. */
  extra?: Record<string, JsonValue>;
  /**
   * Add to an existing file instead of starting a new one (a resumed run). Default false: the file is truncated.
   * When the file ends in a line a crashed writer left unfinished, that text is set aside as a `{"torn": …}`
   * line first, so the new lines start on a line of their own and the whole file stays valid JSON Lines.
   */
  append?: boolean;
  /** Write to disk when this many bytes are waiting. Default 65536. */
  bufferBytes?: number;
  /** Also write waiting lines at least this often, so `gradpipe serve` sees them; 0 turns it off. Default 1000. */
  flushIntervalMs?: number;
  /** Write `tensorNorms` when the events carry them (pipeline made with `tensorNorms: true`). Default true. */
  tensorNorms?: boolean;
}

/** A note for {@link JsonlRecorder.log}: the step it belongs to and the fields to add, typically `loss`. */
export interface StepNote {
  /** The 0-based index of the step the fields belong to, e.g. `result.stats.step`: an integer >= 0. */
  step: number;
  /** The step's loss; NaN and ±Infinity are written as `"NaN"`, `"Infinity"`, `"-Infinity"`, like every non-finite figure in the log. */
  loss?: number;
  /** Any other fields, except a step line's own (`normBefore`, `clipped`, …); undefined ones are left out. */
  [field: string]: JsonValue | undefined;
}

/** What {@link recordJsonl} returns: the open log. */
export interface JsonlRecorder {
  /** The file being written. */
  readonly path: string;
  /** The run name on every line. */
  readonly run: string;
  /** True once closed (by `close()`, or because the events completed or errored). */
  readonly closed: boolean;
  /**
   * Adds fields to a step after the fact, e.g. a loss only known once the step is done. Written as a note
   * line that readers merge into that step's record.
   */
  log(note: StepNote): void;
  /** Writes every waiting line to disk now (synchronously). */
  flush(): void;
  /** Stops listening, writes every waiting line and closes the file. Calling it again does nothing. */
  close(): Promise<void>;
}

const KNOWN_OPTIONS = ['run', 'extra', 'append', 'bufferBytes', 'flushIntervalMs', 'tensorNorms'];

/**
 * Records every step of a pipeline as one JSON line in `path` (format: docs/log-format.md).
 *
 * Lines are buffered and written when `bufferBytes` are waiting, every `flushIntervalMs`, on `close()`,
 * when `events$` completes (`pipe.close()`), and synchronously when the process exits (also on SIGINT,
 * SIGTERM, SIGHUP). A hard crash (SIGKILL, power loss) loses at most the waiting lines.
 *
 * @example
 * ```ts
 * import { GradientPipeline, clipByGlobalNorm } from '@gradpipe/core';
 * import { recordJsonl } from '@gradpipe/monitor';
 *
 * const pipe = new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]);
 * const recorder = recordJsonl(pipe.events$, 'runs/clip.jsonl', { run: 'clip', extra: { lr: 0.07 } });
 * const { stats } = pipe.step({ w: new Float32Array([3, 4]) }, { loss: 0.9 });
 * recorder.log({ step: stats.step, loss: 0.8 }); // a loss known only later
 * await recorder.close();
 * ```
 */
export function recordJsonl(events$: StepEventSource, path: string, options: RecordJsonlOptions = {}): JsonlRecorder {
  const fn = 'recordJsonl';
  if (typeof events$?.subscribe !== 'function') {
    throw new MonitorError(fn, `events$ must be an Observable of step events (pipe.events$), got ${describeValue(events$)}`);
  }
  if (typeof path !== 'string' || path === '') throw new MonitorError(fn, `path must be a non-empty string, got ${describeValue(path)}`);
  if (typeof options !== 'object' || options === null)
    throw new MonitorError(fn, `options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key))
      throw new MonitorError(fn, `unknown option ${JSON.stringify(key)} (known: ${KNOWN_OPTIONS.join(', ')})`);
  }
  const run = options.run ?? basename(path, extname(path));
  if (typeof run !== 'string' || run === '') throw new MonitorError(fn, `run must be a non-empty string, got ${describeValue(run)}`);
  const extra = options.extra ?? {};
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
    throw new MonitorError(fn, `extra must be an object, got ${describeValue(extra)}`);
  }
  for (const key of Object.keys(extra)) {
    if (RESERVED_FIELDS.includes(key)) throw new MonitorError(fn, `extra.${key} clashes with a field of every step line; rename it`);
  }
  const bufferBytes = options.bufferBytes ?? 65536;
  if (!Number.isInteger(bufferBytes) || bufferBytes < 1) {
    throw new MonitorError(fn, `bufferBytes must be an integer >= 1, got ${describeValue(bufferBytes)}`);
  }
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  if (typeof flushIntervalMs !== 'number' || !Number.isFinite(flushIntervalMs) || flushIntervalMs < 0) {
    throw new MonitorError(fn, `flushIntervalMs must be a finite number >= 0, got ${describeValue(flushIntervalMs)}`);
  }
  return new Recorder(events$, path, run, { ...extra }, options.append ?? false, bufferBytes, flushIntervalMs, options.tensorNorms ?? true);
}

class Recorder implements JsonlRecorder {
  private fd: number | undefined;
  private waiting: string[] = [];
  private waitingBytes = 0;
  private readonly subscription: { unsubscribe(): void };
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    events$: StepEventSource,
    readonly path: string,
    readonly run: string,
    private readonly extra: Record<string, JsonValue>,
    append: boolean,
    private readonly bufferBytes: number,
    flushIntervalMs: number,
    private readonly tensorNorms: boolean,
  ) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, append ? 'a+' : 'w');
    } catch (error) {
      throw new MonitorError('recordJsonl', `cannot open the log for writing: ${(error as Error).message}`, { file: path });
    }
    if (append) {
      try {
        endTornLine(this.fd, path);
      } catch (error) {
        closeSync(this.fd);
        throw error;
      }
    }
    flushOnExit(this);
    if (flushIntervalMs > 0) {
      // unref: a pending flush must never keep a finished training script alive.
      this.timer = setInterval(() => this.flush(), flushIntervalMs).unref();
    }
    this.subscription = events$.subscribe({
      next: (event) => this.push(toStepLine(event, this.run, this.extra, this.tensorNorms)),
      error: () => this.closeNow(),
      complete: () => this.closeNow(),
    });
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  log(note: StepNote): void {
    const fn = 'recordJsonl.log';
    if (this.closed) throw new MonitorError(fn, `the recorder of ${this.path} is closed`);
    if (typeof note !== 'object' || note === null) throw new MonitorError(fn, `note must be an object, got ${describeValue(note)}`);
    if (!Number.isInteger(note.step) || note.step < 0) {
      throw new MonitorError(fn, `note.step must be an integer >= 0, got ${describeValue(note.step)}`);
    }
    if (note.loss !== undefined && typeof note.loss !== 'number') {
      throw new MonitorError(fn, `note.loss must be a number, got ${describeValue(note.loss)}`);
    }
    const line: NoteLine = { run: this.run, step: note.step, note: true };
    for (const [key, value] of Object.entries(note)) {
      if (key === 'step' || value === undefined) continue;
      if (key !== 'loss' && RESERVED_FIELDS.includes(key)) throw new MonitorError(fn, `note.${key} cannot be set by a note`);
      line[key] = key === 'loss' ? encodeNumber(value as number) : value;
    }
    this.push(line);
  }

  flush(): void {
    this.flushSync();
  }

  /** Called by flushOnExit too, so it must stay synchronous. */
  flushSync(): void {
    if (this.fd === undefined || this.waiting.length === 0) return;
    const text = this.waiting.join('');
    this.waiting = [];
    this.waitingBytes = 0;
    // One synchronous write per buffer: microseconds for 64 KiB, and what is on disk is never in doubt.
    writeSync(this.fd, text);
  }

  close(): Promise<void> {
    this.closeNow();
    return Promise.resolve();
  }

  private push(line: object): void {
    if (this.fd === undefined) return;
    const text = `${JSON.stringify(line)}\n`;
    this.waiting.push(text);
    this.waitingBytes += text.length;
    if (this.waitingBytes >= this.bufferBytes) this.flushSync();
  }

  private closeNow(): void {
    if (this.fd === undefined) return;
    // The subscription may not exist yet when events$ completes synchronously inside subscribe().
    this.subscription?.unsubscribe();
    if (this.timer !== undefined) clearInterval(this.timer);
    try {
      this.flushSync();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
      forgetOnExit(this);
    }
  }
}

/** A torn line longer than this is no gradpipe log line: the file is refused rather than rewritten. */
const MAX_TORN_BYTES = 4 << 20;

/**
 * Makes a file opened for appending end in a newline. A last line without one is what a crashed writer leaves:
 * if it parses, it only lacks its newline, which is added; if not, its bytes are cut off and written back as a
 * `{"torn": "<its text>"}` line, so nothing is lost and the next line cannot be glued to the torn one.
 */
function endTornLine(fd: number, path: string): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return;
  // Read backwards in chunks until the previous newline (or the start of the file).
  const chunk = Buffer.alloc(64 * 1024);
  let start = size;
  let lineStart = -1;
  while (start > 0 && lineStart === -1) {
    if (size - start >= MAX_TORN_BYTES) {
      throw new MonitorError('recordJsonl', `cannot append: the last ${MAX_TORN_BYTES} bytes hold no newline, so this is not a JSONL log`, {
        file: path,
      });
    }
    const from = Math.max(0, start - chunk.length);
    const n = readSync(fd, chunk, 0, start - from, from);
    const at = chunk.subarray(0, n).lastIndexOf(0x0a);
    if (at !== -1) lineStart = from + at + 1;
    start = from;
  }
  if (lineStart === -1) lineStart = 0;
  const tail = Buffer.alloc(size - lineStart);
  readSync(fd, tail, 0, tail.length, lineStart);
  const text = new TextDecoder().decode(tail);
  let whole = false;
  try {
    JSON.parse(text);
    whole = true;
  } catch {
    // torn: set aside below
  }
  if (whole) {
    writeSync(fd, '\n');
    return;
  }
  // One write of the marker right after the cut: a crash in between loses only text no reader could use anyway.
  ftruncateSync(fd, lineStart);
  writeSync(fd, `${JSON.stringify({ torn: text })}\n`);
}
