import type { StepRecord } from './StepRecord.js';

/**
 * How far back (in steps) a line may still join its step while a log is streamed: a note written a little after
 * its step, or a resumed run that logs the last few thousand steps again. A line further back is "late": the
 * step it belongs to was already handed on, and the reader has to read the file again (see `streamLog`).
 */
export const MERGE_WINDOW = 4096;

/**
 * Puts one run's lines, as they come from the file, back together into one record per step and hands the
 * records on in step order, holding only the last 1–2 × `window` steps. A line for a step that was already handed
 * on is not merged: its step goes into `late`, so the caller knows the figures are not exact yet.
 */
export class StepMerger {
  /** Steps with a line that came after the step was handed on. */
  readonly late = new Set<number>();
  private readonly pending = new Map<number, StepRecord>();
  private maxSeen = -1;
  private done = -1;

  constructor(
    private readonly emit: (record: StepRecord) => void,
    readonly window = MERGE_WINDOW,
  ) {}

  /** One parsed line of this run (note lines included). */
  add(line: StepRecord): void {
    const step = line.step;
    if (step <= this.done) {
      this.late.add(step);
      return;
    }
    mergeLine(this.pending, line);
    if (step > this.maxSeen) {
      this.maxSeen = step;
      // Released up to a point on a fixed grid that depends only on the largest step seen, never on when earlier
      // releases happened: fed a subset of the lines, the merger is never further along, so a line that was not
      // late with all lines is not late with fewer (what the exact re-reads of streamLog rely on).
      const upTo = Math.floor(step / this.window) * this.window - this.window;
      if (upTo > this.done) this.release(upTo);
    }
  }

  /** The input is over: hands on every step still held. */
  end(): void {
    this.release(Infinity);
  }

  /** The records still held, in step order (what a live snapshot adds to a copy of the figures). */
  held(): StepRecord[] {
    return [...this.pending.values()].sort((a, b) => a.step - b.step);
  }

  /** Hands on, in step order, every held step up to `upTo`. */
  private release(upTo: number): void {
    const ready: StepRecord[] = [];
    for (const [step, record] of this.pending) if (step <= upTo) ready.push(record);
    for (const r of ready) this.pending.delete(r.step);
    // Almost always in order already: check before paying for a sort.
    let sorted = true;
    for (let i = 1; i < ready.length && sorted; i++) sorted = (ready[i - 1] as StepRecord).step < (ready[i] as StepRecord).step;
    if (!sorted) ready.sort((a, b) => a.step - b.step);
    for (const r of ready) this.emit(r);
    this.done = upTo;
  }
}

/**
 * Merges a parsed line into the record of its step: the first line becomes the record, later ones (notes, or a
 * step logged again by a resumed run) overwrite the fields they have. Lines come straight from JSON.parse, so
 * they are kept and changed rather than copied.
 */
export function mergeLine(records: Map<number, StepRecord>, line: StepRecord): void {
  if (line.note === true) delete line.note;
  const record = records.get(line.step);
  if (record === undefined) records.set(line.step, line);
  else Object.assign(record, line);
}
