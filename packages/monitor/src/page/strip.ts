// The event strip: drawn on a chart's canvas in the space its top padding leaves above the plot. Each lane is one
// run; a bar marks its flagged steps (contiguous steps merge into one bar, so a run clipped on every step is one
// thin amber bar, not a band of dots over the lines).
import type uPlot from 'uplot';
import type { ChartData } from '../buildChartData.js';
import { context2d, pixelRatio } from './dom.js';
import { state } from './state.js';

/** A lane's height and the thickness of a bar in it, in css px. */
const LANE = 11;
const BAR = 6;

/** The steps some rule marked in one lane. */
export interface Mark {
  steps: readonly number[];
  flags: readonly (0 | 1)[];
  color: string;
  /** A bar at full thickness (skipped, non-finite). */
  thick?: boolean;
  /** A tick at each marked step, never a bar (spikes are single steps). */
  tick?: boolean;
}

/** One run's lane. */
export interface Lane {
  run: string;
  color: string;
  marks: Mark[];
}

/** The room the strip takes above the plot, in css px. */
export function stripHeight(lanes: readonly Lane[]): number {
  return lanes.length === 0 ? 10 : lanes.length * LANE + 6;
}

/**
 * Extra room left of the y axis so the lane labels (run names) fit; the same on both charts, so their x axes line
 * up. The y axis and its title take about 94 css px already.
 */
export function gutterFor(data: ChartData): number {
  const ctx = context2d(document.createElement('canvas'));
  ctx.font = '10px system-ui, sans-serif';
  const widest = data.runs.reduce((w, r) => Math.max(w, ctx.measureText(r.run).width), 0);
  return Math.min(160, Math.max(0, Math.ceil(widest + 18 - 94)));
}

/** A uPlot draw hook that draws the lanes. */
export function drawStrip(lanes: readonly Lane[]): (u: uPlot) => void {
  return (u) => {
    const ctx = u.ctx;
    const px = pixelRatio();
    const left = u.bbox.left;
    const right = u.bbox.left + u.bbox.width;
    const top = u.bbox.top - stripHeight(lanes) * px;
    const xmin = u.scales.x!.min!;
    const xmax = u.scales.x!.max!;
    ctx.save();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.font = `${10 * px}px system-ui, sans-serif`;
    lanes.forEach((lane, n) => {
      const y = top + n * LANE * px;
      const mid = y + (LANE * px) / 2;
      const off = state.hidden.has(lane.run);
      // Lane label in the y-axis gutter: a swatch in the run's colour and its name, cut to fit.
      ctx.globalAlpha = off ? 0.35 : 1;
      ctx.fillStyle = lane.color;
      ctx.fillRect(left - 10 * px, mid - 3 * px, 6 * px, 6 * px);
      ctx.fillStyle = '#374151';
      let name = lane.run;
      const room = left - 16 * px;
      while (name.length > 1 && ctx.measureText(name).width > room) name = `${name.slice(0, -2)}…`;
      ctx.fillText(name, left - 14 * px, mid);
      ctx.fillStyle = '#f3f4f6';
      ctx.fillRect(left, mid - (BAR * px) / 2, right - left, BAR * px);
      if (off) return;
      for (const m of lane.marks) {
        const s = m.steps;
        if (m.tick) {
          // Spikes are single steps: a tick across the whole lane at each spike's own step, never a bar.
          ctx.fillStyle = m.color;
          for (let k = 0; k < s.length; k++) {
            if (!m.flags[k]) continue;
            const x = u.valToPos(s[k]!, 'x', true);
            if (x >= left && x <= right) ctx.fillRect(x - px, mid - (LANE * px) / 2 + px, 2 * px, (LANE - 2) * px);
          }
          continue;
        }
        let k = 0;
        while (k < s.length) {
          if (!m.flags[k]) {
            k++;
            continue;
          }
          const from = k;
          while (k + 1 < s.length && m.flags[k + 1]) k++;
          // A bar reaches halfway to the neighbouring points, so it is centred on its steps and consecutive
          // flagged points (or a downsampled bucket's two points) join up.
          const x0 = from > 0 ? (s[from - 1]! + s[from]!) / 2 : s[from]! - (from + 1 < s.length ? (s[from + 1]! - s[from]!) / 2 : 0.5);
          const x1 = k + 1 < s.length ? (s[k]! + s[k + 1]!) / 2 : s[k]! + (k > 0 ? (s[k]! - s[k - 1]!) / 2 : 0.5);
          k++;
          if (x1 < xmin || x0 > xmax) continue;
          const a = Math.max(left, u.valToPos(x0, 'x', true));
          const b = Math.min(right, u.valToPos(x1, 'x', true));
          ctx.fillStyle = m.color;
          const h = m.thick ? BAR * px : (BAR - 2) * px;
          ctx.fillRect(a, mid - h / 2, Math.max(b - a, 2 * px), h);
        }
      }
    });
    ctx.restore();
  };
}
