import { basename } from 'node:path';
import type { RunRecords } from './buildChartData.js';
import type { StepRecord } from './StepRecord.js';

/** One log file's records. */
export interface FileRecords {
  path: string;
  records: readonly StepRecord[];
}

/**
 * Splits files' records into runs by their `run` field, in order of first appearance. A run name found in two
 * files is two runs (e.g. two logs both called "clip"): each gets its file name added, `clip (a.jsonl)`.
 */
export function groupRuns(files: readonly FileRecords[]): RunRecords[] {
  const perFile = files.map((file) => {
    const runs = new Map<string, StepRecord[]>();
    for (const record of file.records) {
      let list = runs.get(record.run);
      if (list === undefined) {
        list = [];
        runs.set(record.run, list);
      }
      list.push(record);
    }
    return { path: file.path, runs };
  });
  const filesOfRun = new Map<string, number>();
  for (const f of perFile) for (const run of f.runs.keys()) filesOfRun.set(run, (filesOfRun.get(run) ?? 0) + 1);
  const out: RunRecords[] = [];
  for (const f of perFile) {
    for (const [run, records] of f.runs) {
      const name = (filesOfRun.get(run) ?? 0) > 1 ? `${run} (${basename(f.path)})` : run;
      out.push({ run: name, files: [f.path], records });
    }
  }
  return out;
}
