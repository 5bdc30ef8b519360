import { sep } from 'node:path';

/**
 * The labels of runs read from several files: a run's own name, unless another file has a run of the same name;
 * then the name plus the shortest end of its file's path that tells the files apart, e.g. `train (exp1/train.jsonl)`
 * and `train (exp2/train.jsonl)`. Labels are unique (a `#2` is added in the unlikely case they are not yet), since
 * the page keys its toggles by them.
 */
export function runLabels(runs: readonly { file: string; run: string }[]): string[] {
  const filesOf = new Map<string, Set<string>>();
  for (const r of runs) {
    let files = filesOf.get(r.run);
    if (files === undefined) filesOf.set(r.run, (files = new Set()));
    files.add(r.file);
  }
  const labels = runs.map((r) => {
    const files = filesOf.get(r.run)!;
    return files.size > 1 ? `${r.run} (${distinctSuffix(r.file, [...files])})` : r.run;
  });
  const used = new Set<string>();
  return labels.map((label) => {
    let unique = label;
    for (let n = 2; used.has(unique); n++) unique = `${label} #${n}`;
    used.add(unique);
    return unique;
  });
}

/** The fewest trailing path parts of `file` that no other of `files` ends with. */
function distinctSuffix(file: string, files: readonly string[]): string {
  const parts = file.split(/[\\/]/);
  const others = files.filter((f) => f !== file).map((f) => f.split(/[\\/]/));
  for (let k = 1; k <= parts.length; k++) {
    const tail = parts.slice(-k).join(sep);
    if (others.every((o) => o.slice(-k).join(sep) !== tail)) return tail;
  }
  return file;
}
