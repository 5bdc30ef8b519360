import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { clipByGlobalNorm, GradientPipeline } from '@gradpipe/core';
import { COPY_BASELINE, GradientSet } from './GradientSet.js';
import { median, timeMs } from './measure.js';
import type { Row } from './Row.js';

const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('../scripts/torch_clip.py', import.meta.url));

/** PyTorch's clip_grad_norm_ in a child process (benchmarks/scripts/torch_clip.py --serve), or why it is missing. */
async function torchClipServer(
  tensors: number,
  size: number,
): Promise<{ version: string; time: (call: 'clip' | 'noclip' | 'copy') => Promise<number>; close: () => void } | string> {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return `PyTorch is not importable by ${PYTHON} (apt-get install python3-torch): PyTorch rows skipped`;
  }
  const child = spawn(PYTHON, [script, '--serve', String(tensors), String(size)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as Record<string, unknown>;
  const hello = await next();
  return {
    version: String(hello.torch),
    time: async (call) => {
      child.stdin.write(`${call}\n`);
      return (await next()).ms as number;
    },
    close: () => child.stdin.end(),
  };
}

/**
 * clipByGlobalNorm against PyTorch 1.13's clip_grad_norm_ on the same gradients, side by side: both on one thread
 * (JavaScript runs on one), the two alternating call by call so each ratio is the median of pairs taken on the
 * same machine state. Also each side against a copy of the same bytes in its own runtime.
 */
export async function torchClipRows(options: { tensors: number; size: number; reps: number }): Promise<Row[]> {
  const { tensors, size, reps } = options;
  const group = `clipByGlobalNorm vs PyTorch clip_grad_norm_: ${tensors} × ${size.toLocaleString('en')} floats, one thread`;
  const torch = await torchClipServer(tensors, size);
  if (typeof torch === 'string')
    return [{ group, name: 'pipeline clipByGlobalNorm, clips', baseline: 'PyTorch clip_grad_norm_', note: torch }];
  try {
    const set = new GradientSet(tensors, size);
    const norm = Math.sqrt(set.floats / 3);
    const pipes = {
      clip: new GradientPipeline([clipByGlobalNorm({ maxNorm: 1 })]),
      noclip: new GradientPipeline([clipByGlobalNorm({ maxNorm: norm * 10 })]),
    };
    const ours = (call: 'clip' | 'noclip' | 'copy'): number => {
      set.restore();
      if (call === 'copy') return timeMs(set.copy);
      const pipe = pipes[call];
      return timeMs(() => {
        if (pipe.step(set.grads).stats.clipped !== (call === 'clip')) throw new Error(`benchmark setup: ${call} did the other thing`);
      });
    };
    /** Per repetition: each side's call and each side's copy of the same bytes, back to back. */
    const measure = async (call: 'clip' | 'noclip') => {
      ours(call);
      await torch.time(call);
      const out: { ours: number; oursCopy: number; torch: number; torchCopy: number }[] = [];
      for (let r = 0; r < reps; r++)
        out.push({ ours: ours(call), oursCopy: ours('copy'), torch: await torch.time(call), torchCopy: await torch.time('copy') });
      return out;
    };
    const theirs = `PyTorch ${torch.version} clip_grad_norm_`;
    const rows: Row[] = [];
    for (const call of ['clip', 'noclip'] as const) {
      const m = await measure(call);
      const what = call === 'clip' ? 'clips' : 'does not clip';
      const row = (
        name: string,
        baseline: string,
        num: (p: (typeof m)[number]) => number,
        den: (p: (typeof m)[number]) => number,
        target?: number,
      ): Row => ({
        group,
        name,
        baseline,
        ratio: median(m.map((p) => num(p) / den(p))),
        candidateMs: median(m.map(num)),
        baselineMs: median(m.map(den)),
        reps,
        ...(target === undefined ? {} : { target }),
      });
      rows.push(
        row(
          `pipeline clipByGlobalNorm, ${what}`,
          theirs,
          (p) => p.ours,
          (p) => p.torch,
          call === 'clip' ? 1.0 : undefined,
        ),
      );
      rows.push(
        row(
          `gradpipe, ${what}`,
          COPY_BASELINE,
          (p) => p.ours,
          (p) => p.oursCopy,
          call === 'clip' ? 1.3 : 1.0,
        ),
      );
      rows.push(
        row(
          `PyTorch clip_grad_norm_, ${what}`,
          'Tensor.copy_ of the same bytes',
          (p) => p.torch,
          (p) => p.torchCopy,
        ),
      );
    }
    return rows;
  } finally {
    torch.close();
  }
}
