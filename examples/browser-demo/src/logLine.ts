import type { StepEvent } from '@gradpipe/core';

/** A number as the log writes it: non-finite ones as "NaN", "Infinity", "-Infinity" (docs/log-format.md). */
function logged(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/**
 * One step line of gradpipe's JSONL log, as `@gradpipe/monitor`'s `recordJsonl` writes it, for a page that has no
 * file system: `gradpipe report` and `readJsonl` read the downloaded file. (The monitor's writer is for Node.)
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * pipe.events$.subscribe((e) => lines.push(stepLine(e, 'clip', { lr: 0.07 })));
 * new Blob([lines.join('')], { type: 'application/x-ndjson' });
 * ```
 */
export function stepLine(event: StepEvent, run: string, extra: Record<string, string | number> = {}): string {
  const line: Record<string, unknown> = {
    run,
    step: event.step,
    normBefore: logged(event.normBefore),
    normAfter: logged(event.normAfter),
    clipped: event.clipped,
    skipped: event.skipped,
  };
  if (event.threshold !== undefined) line.threshold = logged(event.threshold);
  if (event.loss !== undefined) line.loss = logged(event.loss);
  if (event.nonFinite.length > 0) line.nonFinite = [...event.nonFinite];
  if (event.tensorNorms !== undefined) {
    line.tensorNorms = Object.fromEntries(Object.entries(event.tensorNorms).map(([name, norm]) => [name, logged(norm)]));
  }
  return `${JSON.stringify({ ...line, ...extra })}\n`;
}
