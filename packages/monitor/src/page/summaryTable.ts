// The summary table: one row per run, its figures from every step.
import type { ChartData } from '../buildChartData.js';
import type { NonFiniteCounts } from '../NonFiniteCounts.js';
import type { FirstNonFinite, RunSummary } from '../summarizeRun.js';
import { colorOf } from './colors.js';
import { el } from './dom.js';
import { formatValue } from './format.js';

const FIELD_NAMES: Record<FirstNonFinite['field'], string> = { normBefore: 'norm', normAfter: 'norm after clipping', loss: 'loss' };

const HEAD = [
  'Run',
  'Steps',
  'Clipped',
  'Skipped',
  'Max norm',
  'Final loss',
  'Spikes (loss / norm)',
  'First non-finite step',
  'Non-finite',
  'Layers',
  'Files',
];
/** Each column's `data-field`, for the tests and for styling. */
const FIELDS = [
  'run',
  'steps',
  'clipped',
  'skipped',
  'maxNorm',
  'finalLoss',
  'spikes',
  'firstNonFiniteStep',
  'nonFinite',
  'layers',
  'files',
];

/** "2 NaN, 1 +Infinity": non-finite counts by kind. */
function kinds(c: NonFiniteCounts): string {
  const parts: string[] = [];
  if (c.nan) parts.push(`${c.nan} NaN`);
  if (c.infinity) parts.push(`${c.infinity} +Infinity`);
  if (c.negInfinity) parts.push(`${c.negInfinity} −Infinity`);
  if (c.unknown) parts.push(`${c.unknown} NaN or ±Infinity (older log)`);
  return parts.join(', ');
}

function nonFiniteText(s: RunSummary): string {
  const f = s.firstNonFinite;
  if (!f) return '—';
  const parts = [`first: ${FIELD_NAMES[f.field]} ${formatValue(f.value)}`];
  const n = kinds(s.nonFiniteNorms);
  const l = kinds(s.nonFiniteLosses);
  if (n) parts.push(`norms: ${n}`);
  if (l) parts.push(`losses: ${l}`);
  return parts.join(' · ');
}

function layersText(s: RunSummary): string {
  if (!s.layers.length) return '—';
  const flagged = s.layers.filter((l) => l.flag !== 'ok').length;
  return s.layers.length + (flagged ? ` (${flagged} flagged)` : ' (all ok)');
}

export function summaryTable(data: ChartData): HTMLTableElement {
  const rows = data.runs.map((r, i) => {
    const s = r.summary;
    const cells: (Node | string)[][] = [
      [el('span', { class: 'swatch', style: `background:${colorOf(i)}` }), r.run],
      [String(s.steps)], // counts stay exact: 1000000 steps, not 1e6
      [`${(100 * s.clippedFraction).toFixed(1)}% (${s.clipped})`],
      [String(s.skipped)],
      [formatValue(s.maxNorm === null ? undefined : s.maxNorm)],
      [formatValue(s.finalLoss)],
      [`${s.lossSpikes} / ${s.normSpikes}`],
      [s.firstNonFiniteStep === undefined ? '—' : String(s.firstNonFiniteStep)],
      [nonFiniteText(s)],
      [layersText(s)],
      [r.files.join(', ')],
    ];
    return el(
      'tr',
      { 'data-run': r.run },
      cells.map((c, j) => el('td', { 'data-field': FIELDS[j]! }, c)),
    );
  });
  return el('table', { class: 'summary' }, [
    el('thead', {}, [
      el(
        'tr',
        {},
        HEAD.map((h) => el('th', { text: h })),
      ),
    ]),
    el('tbody', {}, rows),
  ]);
}
