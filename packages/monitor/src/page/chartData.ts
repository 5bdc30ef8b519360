// The runtime check of the data embedded in the page (and of each live update): it must be the ChartData of
// buildChartData, or the page says what is wrong instead of drawing from it. Pure code, no DOM: tested in Node.
import type { ChartData, LossSeries, NormSeries, RunChartData, SpikeRule } from '../buildChartData.js';
import type { LayerHealth, LayerSeries } from '../LayerTracker.js';
import type { NonFiniteCounts } from '../NonFiniteCounts.js';
import type { FirstNonFinite, RunSummary } from '../summarizeRun.js';
import {
  arrayOf,
  type Check,
  figure,
  finite,
  flag,
  nullable,
  object,
  oneOf,
  optional,
  Problems,
  point,
  refine,
  seriesOf,
  string,
} from './checks.js';

/** One layer's series of {@link LayerSeries}. */
type LayerLine = LayerSeries['layers'][number];

/** Each named array must have `length` entries: the page reads them side by side. */
function sameLength(path: string, problems: Problems, length: number, what: string, arrays: Record<string, unknown[]>): void {
  for (const [name, array] of Object.entries(arrays)) {
    if (array.length !== length) problems.add(`${path}.${name}`, `has ${array.length} entries for ${length} ${what}`);
  }
}

const counts: Check<NonFiniteCounts> = object<NonFiniteCounts>({ nan: finite, infinity: finite, negInfinity: finite, unknown: finite });

const firstNonFinite = object<FirstNonFinite>({
  step: finite,
  field: oneOf('normBefore', 'normAfter', 'loss'),
  value: nullable(figure),
});

const layerHealth = object<LayerHealth>({
  name: string,
  min: nullable(figure),
  median: nullable(figure),
  last: nullable(figure),
  flag: oneOf('vanishing', 'exploding', 'ok'),
  reason: string,
  earlyMedian: nullable(figure),
  steps: finite,
  nonFinite: counts,
  firstNonFiniteStep: optional(finite),
});

const summary = object<RunSummary>({
  run: string,
  steps: finite,
  clipped: finite,
  clippedFraction: figure,
  skipped: finite,
  maxNorm: nullable(figure),
  finalLoss: optional(nullable(figure)),
  firstNonFiniteStep: optional(finite),
  firstNonFinite: optional(firstNonFinite),
  nonFiniteNorms: counts,
  nonFiniteLosses: counts,
  normSpikes: finite,
  lossSpikes: finite,
  firstStep: optional(finite),
  lastStep: optional(finite),
  layers: arrayOf(layerHealth),
});

const norms = refine(
  object<NormSeries>({
    step: seriesOf(finite),
    before: seriesOf(point),
    after: seriesOf(point),
    threshold: seriesOf(point),
    clipped: seriesOf(flag),
    skipped: seriesOf(flag),
    nonFinite: seriesOf(flag),
    spike: seriesOf(flag),
  }),
  ({ step, ...rest }, path, problems) => sameLength(path, problems, step.length, 'steps', rest),
);

const loss = refine(
  object<LossSeries>({ step: seriesOf(finite), value: seriesOf(point), nonFinite: seriesOf(flag), spike: seriesOf(flag) }),
  ({ step, ...rest }, path, problems) => sameLength(path, problems, step.length, 'steps', rest),
);

const layerLine = object<LayerLine>({
  name: string,
  mean: seriesOf(point),
  nonFinite: seriesOf(flag),
  zero: seriesOf(flag),
  line: seriesOf(point),
});

const layers = refine(
  object<LayerSeries>({
    bucketSize: finite,
    from: seriesOf(finite),
    to: seriesOf(finite),
    step: seriesOf(finite),
    layers: arrayOf(layerLine),
  }),
  (s, path, problems) => {
    sameLength(path, problems, s.from.length, 'buckets', { to: s.to });
    s.layers.forEach((l, i) => {
      sameLength(`${path}.layers[${i}]`, problems, s.from.length, 'buckets', { mean: l.mean, nonFinite: l.nonFinite, zero: l.zero });
      sameLength(`${path}.layers[${i}]`, problems, s.step.length, 'line points', { line: l.line });
    });
  },
);

const run = object<RunChartData>({
  run: string,
  files: arrayOf(string),
  summary,
  norms,
  loss,
  layers: optional(layers),
});

const chartData = object<ChartData>({
  title: string,
  bucketSize: finite,
  maxSteps: finite,
  runs: arrayOf(run),
  spikes: object<SpikeRule>({ window: finite, z: finite }),
});

/** The page's data, checked: the ChartData to draw, or what is wrong with it (a few lines). */
export type CheckedData = { ok: true; data: ChartData } | { ok: false; problems: string[] };

/**
 * Checks parsed JSON against ChartData: every field the page reads, of the right type, series of equal length.
 * Non-finite figures, spelled out in the JSON, come back as numbers. Fields ChartData does not have are ignored.
 */
export function checkChartData(value: unknown): CheckedData {
  const problems = new Problems();
  const data = chartData(value, '', problems);
  return problems.count === 0 ? { ok: true, data } : { ok: false, problems: problems.lines() };
}

/** {@link checkChartData} of JSON text; text that is not JSON is a problem too. */
export function parseChartData(json: string): CheckedData {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, problems: [`the data is not JSON: ${(error as Error).message}`] };
  }
  return checkChartData(value);
}
