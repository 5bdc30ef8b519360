import type { StepRecord } from './StepRecord.js';

/**
 * Gathers parsed lines into one record per (run, step), in the order steps first appear: a note line
 * (`note: true`) adds its fields to its step's record, whether it comes before or after the step line.
 */
export class RecordCollector {
  /** The records, in order of first appearance. */
  readonly records: StepRecord[] = [];
  private readonly index = new Map<string, Map<number, StepRecord>>();

  /** Adds one parsed line. */
  add(line: StepRecord): void {
    let steps = this.index.get(line.run);
    if (steps === undefined) {
      steps = new Map();
      this.index.set(line.run, steps);
    }
    // Lines come straight from JSON.parse, so they can be kept and changed rather than copied.
    if (line.note === true) delete line.note;
    const record = steps.get(line.step);
    if (record === undefined) {
      steps.set(line.step, line);
      this.records.push(line);
      return;
    }
    // A repeated step line (a resumed run that logs the step again) replaces the earlier figures.
    Object.assign(record, line);
  }
}
