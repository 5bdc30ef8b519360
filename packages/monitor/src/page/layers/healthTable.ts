// The layer health table: one row per layer, its flag and figures, and a box to draw its line.
import { layerColor } from '../colors.js';
import { el } from '../dom.js';
import { formatValue } from '../format.js';
import { FLAG_TEXT, type LayeredRun } from './layeredRun.js';
import { picksOf, togglePick } from './picks.js';

const HEAD = ['Line', 'Layer', 'Flag', 'Min', 'Median (last 100 steps)', 'Last', 'Steps', 'Why'];
const FIELDS = ['line', 'name', 'flag', 'min', 'median', 'last', 'steps', 'reason'];

export function healthTable(run: LayeredRun): HTMLTableElement {
  const chosen = picksOf(run);
  const rows = run.summary.layers.map((h, i) => {
    const box = el('input', { type: 'checkbox', 'aria-label': `draw the line of ${h.name}` });
    box.checked = chosen.has(h.name);
    box.addEventListener('change', () => togglePick(run, h.name));
    const cells: (Node | string)[][] = [
      [box],
      [el('span', { class: 'swatch', style: `background:${layerColor(i)}` }), h.name],
      [el('span', { class: `flag flag-${h.flag}`, text: FLAG_TEXT[h.flag] })],
      [formatValue(h.min === null ? undefined : h.min)],
      [formatValue(h.median === null ? undefined : h.median)],
      [formatValue(h.last)],
      [String(h.steps)],
      [h.reason || '—'],
    ];
    return el(
      'tr',
      { 'data-layer': h.name, class: `flag-row-${h.flag}` },
      cells.map((c, j) => el('td', { 'data-field': FIELDS[j]! }, c)),
    );
  });
  return el('table', { class: 'summary layers' }, [
    el('thead', {}, [
      el(
        'tr',
        {},
        HEAD.map((t) => el('th', { text: t })),
      ),
    ]),
    el('tbody', {}, rows),
  ]);
}
