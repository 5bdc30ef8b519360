import { markdownTable } from 'markdown-table';
import type { Clipping, ExperimentResult } from './runExperiment.js';

/** What the seed measured with PyTorch 1.13 for the same setup, three seeds (issue #3). */
export const PYTORCH: Record<Clipping, { label: string; firstNanEpoch: string; finalLoss: string }> = {
  none: { label: 'no clipping', firstNanEpoch: '0 (all seeds)', finalLoss: 'NaN' },
  clipvalue: { label: 'clip by value 1.0', firstNanEpoch: 'never', finalLoss: '70–100' },
  globalNorm: { label: 'clip by global norm 1.0', firstNanEpoch: 'never', finalLoss: '0.59–0.79' },
};

const formatLoss = (loss: number) => (Number.isFinite(loss) ? loss.toPrecision(3) : String(loss));

/** "0 (all seeds)", "never", or the per-seed list, as the PyTorch column is written. */
function firstNanEpochs(runs: readonly ExperimentResult[]): string {
  const epochs = runs.map((r) => (r.firstNanEpoch === null ? 'never' : String(r.firstNanEpoch)));
  if (epochs.every((e) => e === epochs[0])) return runs.length > 1 && epochs[0] !== 'never' ? `${epochs[0]} (all seeds)` : epochs[0]!;
  return epochs.join(', ');
}

/** The range of the final losses over the seeds ("NaN" when any run diverged). */
function finalLosses(runs: readonly ExperimentResult[]): string {
  const losses = runs.map((r) => r.finalLoss);
  if (losses.some((l) => !Number.isFinite(l))) return losses.every((l) => Number.isNaN(l)) ? 'NaN' : losses.map(formatLoss).join(', ');
  const [lo, hi] = [Math.min(...losses), Math.max(...losses)];
  return lo === hi ? formatLoss(lo) : `${formatLoss(lo)}–${formatLoss(hi)}`;
}

/**
 * The seed's table with the tfjs runs (one or more seeds per clipping) beside the PyTorch figures, as GitHub
 * markdown.
 *
 * @example
 * ```ts
 * console.log(resultsTable([await runExperiment({ clipping: 'none', data })]));
 * ```
 */
export function resultsTable(results: readonly ExperimentResult[]): string {
  const epochs = results[0]?.epochLosses.length ?? 0;
  const clippings = [...new Set(results.map((r) => r.clipping))];
  return markdownTable([
    ['run', 'first NaN epoch (PyTorch)', 'first NaN epoch (tfjs)', `loss at epoch ${epochs} (PyTorch)`, `loss at epoch ${epochs} (tfjs)`],
    ...clippings.map((clipping) => {
      const runs = results.filter((r) => r.clipping === clipping);
      return [
        PYTORCH[clipping].label,
        PYTORCH[clipping].firstNanEpoch,
        firstNanEpochs(runs),
        PYTORCH[clipping].finalLoss,
        finalLosses(runs),
      ];
    }),
  ]);
}
