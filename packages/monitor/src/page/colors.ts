// The page's colours.

/** One colour per run (twelve before they repeat). The event colours below are kept out of this list. */
const COLORS = [
  '#2563eb',
  '#dc2626',
  '#059669',
  '#c026d3',
  '#0891b2',
  '#db2777',
  '#4b5563',
  '#65a30d',
  '#1e3a8a',
  '#a16207',
  '#0f766e',
  '#0369a1',
];

/** The marks of the event strips. */
export const MARK = { clipped: '#f59e0b', skipped: '#7c3aed', nonFinite: '#7f1d1d', spike: '#111827' };

const LAYER_COLORS = ['#1d4ed8', '#b91c1c', '#047857', '#7e22ce', '#c2410c', '#0e7490', '#be185d', '#4d7c0f', '#334155', '#a16207'];

/** Heatmap cells that have no colour on the scale. */
export const CELL = { nonFinite: '#ff1f5b', zero: '#9ca3af' };

// viridis (matplotlib's), ten stops: perceptually even, readable in grey and by most colour-blind readers.
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

/** The colour of the i-th run. */
export function colorOf(i: number): string {
  return COLORS[i % COLORS.length]!;
}

/** The colour of the i-th layer's line. */
export function layerColor(i: number): string {
  return LAYER_COLORS[i % LAYER_COLORS.length]!;
}

/** The viridis colour at t in [0, 1] (clamped), as `rgb(r,g,b)`. */
export function viridis(t: number): string {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return `rgb(${[0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))).join(',')})`;
}
