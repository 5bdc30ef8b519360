import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { AccumulatedRun } from './buildChartData.js';
import { JsonlParser } from './JsonlParser.js';
import { MonitorError } from './MonitorError.js';
import { type AccumulatorOptions, RunAccumulator } from './RunAccumulator.js';
import { runLabels } from './runLabels.js';
import { MERGE_WINDOW, StepMerger } from './StepMerger.js';

interface Run {
  acc: RunAccumulator;
  merger: StepMerger;
}

interface Followed {
  path: string;
  offset: number;
  decoder: StringDecoder;
  parser: JsonlParser;
  runs: Map<string, Run>;
  /** The merge window; doubled each time a line came too late for it (the file is then read anew). */
  window: number;
  /** Set when a line was malformed: the file is not read further until it is rewritten. */
  problem?: string;
}

/**
 * Follows JSONL logs while training appends to them: each `poll()` reads only the bytes added since the last
 * one and adds them to running figures (the same as the report's), so neither memory nor the work per update
 * grows with the log. A line is taken once its newline has arrived, so a half-written last line just waits; a
 * file that shrank (a recorder started it anew) is read again from the start, as is one with a line too far
 * out of step order for the merge window (the window doubles). Given a directory, it follows every `.jsonl`
 * file in it, including ones that appear later.
 */
export class LogFollower {
  private readonly files = new Map<string, Followed>();
  /** Bytes read from the files so far (what the tests check "only the appended bytes" with). */
  bytesRead = 0;

  /** @param targets Directories and/or .jsonl files. */
  constructor(
    private readonly targets: readonly string[],
    private readonly options: AccumulatorOptions,
  ) {}

  /** Reads what was appended since the last poll. Returns true when something changed. */
  poll(): boolean {
    let changed = false;
    for (const path of this.paths()) {
      let file = this.files.get(path);
      if (file === undefined) {
        file = this.start(path, MERGE_WINDOW);
        this.files.set(path, file);
        changed = true;
      }
      if (this.read(file)) changed = true;
    }
    return changed;
  }

  /**
   * Every followed run's figures so far, labelled as `writeReport` labels them: copies, completed with the steps
   * the merge window still holds, so following goes on unchanged.
   */
  snapshot(): AccumulatedRun[] {
    const runs = [...this.files.values()].flatMap((f) =>
      [...f.runs].map(([run, r]) => {
        const acc = r.acc.clone();
        for (const record of r.merger.held()) acc.add(record);
        return { file: f.path, run, acc };
      }),
    );
    const labels = runLabels(runs);
    return runs.map((r, i) => ({ run: labels[i]!, files: [r.file], acc: r.acc }));
  }

  /** Messages about files with a malformed line (they are not read further until rewritten). */
  problems(): string[] {
    return [...this.files.values()].flatMap((f) => (f.problem === undefined ? [] : [f.problem]));
  }

  private paths(): string[] {
    const out: string[] = [];
    for (const target of this.targets) {
      let isDir = false;
      try {
        isDir = statSync(target).isDirectory();
      } catch {
        continue; // a file that does not exist yet: followed once it appears
      }
      if (!isDir) out.push(target);
      else for (const name of readdirSync(target).sort()) if (name.endsWith('.jsonl')) out.push(join(target, name));
    }
    return out;
  }

  private start(path: string, window: number): Followed {
    return {
      path,
      offset: 0,
      decoder: new StringDecoder('utf8'),
      parser: new JsonlParser(path, 'serve', basename(path, extname(path))),
      runs: new Map(),
      window,
    };
  }

  private onLine(file: Followed, line: Parameters<StepMerger['add']>[0]): void {
    let run = file.runs.get(line.run);
    if (run === undefined) {
      const acc = new RunAccumulator(line.run, this.options);
      run = { acc, merger: new StepMerger((r) => acc.add(r), file.window) };
      file.runs.set(line.run, run);
    }
    run.merger.add(line);
  }

  private read(file: Followed): boolean {
    let size: number;
    try {
      size = statSync(file.path).size;
    } catch {
      return false;
    }
    if (size < file.offset) {
      Object.assign(file, this.start(file.path, MERGE_WINDOW), { problem: undefined });
      if (size === 0) return true;
    }
    if (size === file.offset || file.problem !== undefined) return false;
    const fd = openSync(file.path, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(size - file.offset, 4 << 20));
      while (file.offset < size) {
        const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - file.offset), file.offset);
        if (n === 0) break;
        file.offset += n;
        this.bytesRead += n;
        // The decoder keeps a multi-byte character split across two reads until it is whole.
        file.parser.push(file.decoder.write(buffer.subarray(0, n)), (line) => this.onLine(file, line));
      }
    } catch (error) {
      if (!(error instanceof MonitorError)) throw error;
      file.problem = error.message;
    } finally {
      closeSync(fd);
    }
    if ([...file.runs.values()].some((r) => r.merger.late.size > 0)) {
      // A line too far out of step order for the window: read the file anew with a window twice as large.
      Object.assign(file, this.start(file.path, file.window * 2));
      this.read(file);
    }
    return true;
  }
}
