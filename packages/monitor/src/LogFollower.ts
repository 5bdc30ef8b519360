import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { FileRecords } from './groupRuns.js';
import { JsonlParser } from './JsonlParser.js';
import { MonitorError } from './MonitorError.js';
import { RecordCollector } from './RecordCollector.js';

interface Followed {
  path: string;
  offset: number;
  decoder: StringDecoder;
  parser: JsonlParser;
  collector: RecordCollector;
  /** Set when a line was malformed: the file is not read further until it is rewritten. */
  problem?: string;
}

/**
 * Follows JSONL logs while training appends to them: each `poll()` reads only the bytes added since the last
 * one. A line is taken once its newline has arrived, so a half-written last line just waits; a file that
 * shrank (a recorder started it anew) is read again from the start. Given a directory, it follows every
 * `.jsonl` file in it, including ones that appear later.
 */
export class LogFollower {
  private readonly files = new Map<string, Followed>();

  /** @param targets Directories and/or .jsonl files. */
  constructor(private readonly targets: readonly string[]) {}

  /** Reads what was appended since the last poll. Returns true when something changed. */
  poll(): boolean {
    let changed = false;
    for (const path of this.paths()) {
      let file = this.files.get(path);
      if (file === undefined) {
        file = this.start(path);
        this.files.set(path, file);
        changed = true;
      }
      if (this.read(file)) changed = true;
    }
    return changed;
  }

  /** Every followed file's records so far. */
  records(): FileRecords[] {
    return [...this.files.values()].map((f) => ({ path: f.path, records: f.collector.records }));
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

  private start(path: string): Followed {
    return {
      path,
      offset: 0,
      decoder: new StringDecoder('utf8'),
      parser: new JsonlParser(path, 'serve', basename(path, extname(path))),
      collector: new RecordCollector(),
    };
  }

  private read(file: Followed): boolean {
    let size: number;
    try {
      size = statSync(file.path).size;
    } catch {
      return false;
    }
    if (size < file.offset) {
      Object.assign(file, this.start(file.path), { problem: undefined });
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
        // The decoder keeps a multi-byte character split across two reads until it is whole.
        file.parser.push(file.decoder.write(buffer.subarray(0, n)), (record) => file.collector.add(record));
      }
    } catch (error) {
      if (!(error instanceof MonitorError)) throw error;
      file.problem = error.message;
    } finally {
      closeSync(fd);
    }
    return true;
  }
}
