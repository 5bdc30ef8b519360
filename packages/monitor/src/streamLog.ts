import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { JsonlParser, type TruncatedLine } from './JsonlParser.js';
import { MonitorError } from './MonitorError.js';
import { type AccumulatorOptions, RunAccumulator } from './RunAccumulator.js';
import { MERGE_WINDOW, mergeLine, StepMerger } from './StepMerger.js';
import type { StepRecord } from './StepRecord.js';

/**
 * Reads a log file in 1 MiB chunks and hands every parsed line to `onLine` as it goes, so memory does not depend
 * on the file's size. Lines a crashed writer left unfinished go to `onTruncated`. File-system errors become
 * MonitorErrors naming `fn` and the file.
 */
export async function forEachLine(
  path: string,
  fn: string,
  onLine: (line: StepRecord) => void,
  onTruncated?: (line: TruncatedLine) => void,
): Promise<void> {
  const parser = new JsonlParser(path, fn, basename(path, extname(path)));
  try {
    for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      parser.push(chunk as string, onLine, onTruncated);
    }
  } catch (error) {
    if (error instanceof MonitorError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MonitorError(fn, 'no such file', { file: path });
    if (code === 'EISDIR') throw new MonitorError(fn, 'is a directory, not a .jsonl file', { file: path });
    throw new MonitorError(fn, `cannot read: ${(error as Error).message}`, { file: path });
  }
  const { record, truncated } = parser.end();
  if (record !== undefined) onLine(record);
  if (truncated !== undefined) onTruncated?.(truncated);
}

/** One run of a streamed file: its name as logged and its accumulated figures. */
export interface StreamedRun {
  run: string;
  acc: RunAccumulator;
}

/** Steps gathered per extra read when a run has late lines: bounds the memory of the exact path. */
export const RANGE_STEPS = 100_000;

/**
 * Streams one log into one accumulator per run, in order of first appearance, in memory that does not grow with
 * the file: one read, usually. A run with late lines (more than {@link MERGE_WINDOW} steps out of place, e.g. a
 * run resumed from a checkpoint long before its crash) is then redone exactly, in three parts: its steps before
 * the first late step (streamed as before), the steps from the first to the last late step (gathered
 * {@link RANGE_STEPS} steps per read, each range merged and sorted in memory), and the steps after (streamed
 * again). The figures are always those of the whole file merged in memory.
 */
export async function streamLog(
  path: string,
  fn: string,
  options: AccumulatorOptions,
  onTruncated?: (line: TruncatedLine) => void,
  window = MERGE_WINDOW,
  rangeSteps = RANGE_STEPS,
  /** Counts the reads of the file (for tests that must know the exact path was taken). */
  stats: { reads: number } = { reads: 0 },
): Promise<StreamedRun[]> {
  stats.reads++;
  const runs = new Map<string, { acc: RunAccumulator; merger: StepMerger }>();
  await forEachLine(
    path,
    fn,
    (line) => {
      let run = runs.get(line.run);
      if (run === undefined) {
        const acc = new RunAccumulator(line.run, options);
        run = { acc, merger: new StepMerger((r) => acc.add(r), window) };
        runs.set(line.run, run);
      }
      run.merger.add(line);
    },
    onTruncated,
  );
  for (const r of runs.values()) r.merger.end();
  const redo = new Map<string, ExactRun>();
  for (const [run, r] of runs) {
    if (r.merger.late.size === 0) continue;
    const late = [...r.merger.late];
    const acc = new RunAccumulator(run, options);
    const first = Math.min(...late);
    redo.set(run, { acc, first, last: Math.max(...late), next: first, before: new StepMerger((x) => acc.add(x), window) });
    r.acc = acc;
  }
  while (redo.size > 0) {
    stats.reads++;
    const ranges = new Map<string, Map<number, StepRecord>>();
    const after = new Map<string, StepMerger>();
    for (const [run, e] of redo) {
      if (e.next <= e.last) ranges.set(run, new Map());
      else after.set(run, new StepMerger((x) => e.acc.add(x), window));
    }
    await forEachLine(path, fn, (line) => {
      const e = redo.get(line.run);
      if (e === undefined) return;
      const step = line.step;
      if (e.before !== undefined && step < e.first) e.before.add(line);
      const range = ranges.get(line.run);
      if (range !== undefined && step >= e.next && step < Math.min(e.next + rangeSteps, e.last + 1)) mergeLine(range, line);
      if (step > e.last) after.get(line.run)?.add(line);
    });
    for (const [run, e] of [...redo]) {
      e.before?.end();
      e.before = undefined;
      const range = ranges.get(run);
      if (range !== undefined) {
        for (const r of [...range.values()].sort((a, b) => a.step - b.step)) e.acc.add(r);
        e.next = Math.min(e.next + rangeSteps, e.last + 1);
      } else {
        // Lines after the last late step were never late, and are not now with fewer lines driving the window.
        after.get(run)!.end();
        redo.delete(run);
      }
    }
  }
  return [...runs].map(([run, r]) => ({ run, acc: r.acc }));
}

/** A run being redone exactly (see {@link streamLog}). */
interface ExactRun {
  acc: RunAccumulator;
  /** The first and last late step. */
  first: number;
  last: number;
  /** The first step of the next range to gather. */
  next: number;
  /** Streams the steps before `first`, during the first extra read. */
  before: StepMerger | undefined;
}
