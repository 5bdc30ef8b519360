import { writeFileSync } from 'node:fs';
import { type Row, verdict } from './Row.js';

/** Prints one table per group: ratio, target and verdict, and the median times behind the ratio. */
export function printTable(rows: readonly Row[]): void {
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const group of groups) {
    const members = rows.filter((r) => r.group === group);
    const baselines = [...new Set(members.map((r) => r.baseline))];
    console.log(`\n${group} — ratio = time / time of ${baselines.join(' (or) ')}`);
    console.table(
      members.map((r) => ({
        measured: r.name,
        'ratio ×': r.ratio === undefined ? '—' : Number(r.ratio.toFixed(2)),
        target: r.target === undefined ? '' : `≤ ${r.target.toFixed(2)}`,
        verdict: verdict(r),
        'ms: candidate / baseline': r.candidateMs === undefined ? '' : `${r.candidateMs.toFixed(2)} / ${r.baselineMs!.toFixed(2)}`,
        ...(r.kernels ? { 'kernels: candidate / baseline': `${r.kernels.candidate} / ${r.kernels.baseline}` } : {}),
        ...(baselines.length > 1 ? { baseline: r.baseline } : {}),
      })),
    );
    for (const r of members) if (r.note) console.log(`  note — ${r.name}: ${r.note}`);
  }
  const targeted = rows.filter((r) => r.target !== undefined);
  const met = targeted.filter((r) => verdict(r) === 'met').length;
  console.log(
    `\nTargets: ${met} of ${targeted.length} met${
      targeted.length > met
        ? ` (${targeted
            .filter((r) => verdict(r) !== 'met')
            .map((r) => `${r.group} / ${r.name}: ${verdict(r)}`)
            .join('; ')})`
        : ''
    }.`,
  );
}

/** Writes the results JSON: machine facts, then every row with its verdict. */
export function writeResults(path: string, rows: readonly Row[], meta: Record<string, unknown>): void {
  const results = { ...meta, rows: rows.map((r) => ({ ...r, verdict: verdict(r) })) };
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
